"""Child processes the bench starts (gunicorn, Celery workers) and always stops, as process groups."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from bench.environment import ROOT, VAR, child_env

_running: list["Child"] = []


class Child:
    """One subprocess in its own session, so stopping it stops its pool processes too."""

    stop_signal = signal.SIGTERM
    stop_grace = 20.0

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None):
        self.name = name
        self.argv = argv
        self.env = env or child_env()
        self.process: subprocess.Popen | None = None
        self.log_path = VAR / "logs" / f"{name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> "Child":
        self.launch()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        self.check_alive()

    def launch(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _running.append(self)

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(f"{self.name} exited early; log {self.log_path}:\n{tail}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, self.stop_signal)
            try:
                self.process.wait(timeout=self.stop_grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Pool children left behind by a worker that died first are in the same group.
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self in _running:
            _running.remove(self)
        self.process = None


def start_all(*children: Child) -> None:
    """Launch several children at once (their start-up overlaps), then wait until each is ready."""
    for child in children:
        child.launch()
    for child in children:
        child.wait_ready()


def stop_all() -> None:
    for child in reversed(list(_running)):
        child.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn(Child):
    def __init__(self, name: str, *, app: str = "lms.wsgi:application", workers: int = 4, env=None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "gunicorn", app, "-w", str(workers), "-b", f"127.0.0.1:{self.port}"]
        argv += ["--log-level", "warning", "--graceful-timeout", "5"]
        super().__init__(name, argv, env)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer /healthz within 60 s (log {self.log_path})")


class Worker(Child):
    """`celery worker` with the project's settings (late acks, prefetch 1) and a prefork pool."""

    # Stopped between benchmarks, when idle (nothing to lose): a cold shutdown, and no waiting for the
    # 2 s a worker takes to say goodbye to the broker.
    stop_signal = signal.SIGQUIT
    stop_grace = 0.5

    def __init__(self, name: str, *, queues: str, concurrency: int, app: str = "lms", env=None):
        self.node = f"bench-{name}@{socket.gethostname()}"
        self.app_name = app
        argv = [sys.executable, "-m", "celery", "-A", app, "worker", "-P", "prefork", "-l", "warning"]
        argv += ["-Q", queues, "-c", str(concurrency), "-n", self.node]
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        super().__init__(f"worker-{name}", argv, env)

    def celery_app(self):
        if self.app_name == "lms":
            from lms.celery import app
        else:
            from bench.bare_celery import app
        return app

    def wait_ready(self) -> None:
        app = self.celery_app()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check_alive()
            if app.control.ping(destination=[self.node], timeout=0.5):
                return
        raise RuntimeError(f"{self.name} did not answer ping within 60 s (log {self.log_path})")

    def pause(self, queue: str) -> None:
        """Stop taking messages from `queue` (to fill it first, then time how fast it drains)."""
        self.celery_app().control.cancel_consumer(queue, destination=[self.node], reply=True, timeout=5)

    def resume(self, queue: str) -> None:
        self.celery_app().control.add_consumer(queue, destination=[self.node], reply=False)
