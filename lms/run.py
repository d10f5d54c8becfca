"""`make run`: the whole system on one machine, for development.

Checks the database and the broker, migrates, collects static files, loads the demo data, then supervises
web (gunicorn), worker, beat (exactly one) and Flower with honcho. Without CELERY_BROKER_URL it starts an
embedded Redis; without DATABASE_URL the settings use SQLite under var/. Ctrl-C or SIGTERM stops every
child, the embedded Redis included.
"""

import datetime
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
BIN_DIR = Path(sys.executable).parent  # the venv's scripts, whatever PATH says
QUEUES = "default,pdf,email,email_bulk,webhooks,imports"
READY_TIMEOUT_SECONDS = 120


class StartupError(Exception):
    """A one-line reason the system cannot start."""


def _raise_system_exit(signum, frame) -> None:
    # Until honcho takes over SIGTERM, turn it into an exception so `finally` stops the embedded Redis.
    raise SystemExit(128 + signum)


def _bin(name: str) -> str:
    return shlex.quote(str(BIN_DIR / name))


def _check_services() -> None:
    """Raise StartupError naming the database or broker that does not answer (or a bad setting)."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
        from django.db import connections

        from lms.startup import check_broker, check_database

        try:
            problem = check_database() or check_broker()
        finally:
            connections.close_all()  # the children open their own
    except ImproperlyConfigured as exc:  # a malformed DATABASE_URL, a missing SECRET_KEY without DEBUG, ...
        raise StartupError(str(exc).splitlines()[0]) from None
    if problem:
        raise StartupError(problem)


def _manage(*args: str) -> None:
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    result = subprocess.run(command, cwd=BASE_DIR, check=False)
    if result.returncode != 0:
        raise StartupError(f"`manage.py {' '.join(args)}` failed (exit {result.returncode}); see the output above.")


def _commands(*, host: str, port: str, flower_port: str) -> dict[str, str]:
    # `exec` so the shell honcho starts is replaced: the process honcho signals is the service itself.
    celery = f"exec {_bin('celery')} -A lms"
    return {
        "web": (
            f"exec {_bin('gunicorn')} lms.wsgi --bind {shlex.quote(f'{host}:{port}')} --workers 2 "
            "--access-logfile - --error-logfile - --no-control-socket"
        ),
        "worker": f"{celery} worker -l info -Q {QUEUES} -c 2 -n 'worker@%h'",
        # One beat only: two would run every periodic task twice.
        "beat": (
            f"{celery} beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler "
            f"--pidfile {shlex.quote(str(VAR_DIR / 'celerybeat.pid'))} "
            f"--schedule {shlex.quote(str(VAR_DIR / 'celerybeat-schedule'))}"
        ),
        # Publishes jobs whose after-commit publish failed (broker down, a web process killed).
        "relay": f"exec {shlex.quote(sys.executable)} {shlex.quote(str(BASE_DIR / 'manage.py'))} outbox_relay",
        # Basic auth comes from FLOWER_BASIC_AUTH in Flower's environment (Flower reads it itself), which
        # keeps the password out of `ps`.
        "flower": f"{celery} flower --address=127.0.0.1 --port={shlex.quote(flower_port)}",
    }


def _worker_answers() -> bool:
    from lms.celery import app

    try:
        return bool(app.control.ping(timeout=1.0))
    except Exception:  # broker hiccup while starting: ask again
        return False


def _wait_until_ready(*, web_url: str, flower_port: int, stop: threading.Event) -> bool:
    """Wait until the web answers /healthz, Flower listens and a worker answers a ping."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    web_ok = flower_ok = worker_ok = False
    while not stop.is_set() and time.monotonic() < deadline:
        if not web_ok:
            try:
                with urllib.request.urlopen(f"{web_url}/healthz", timeout=2) as response:
                    web_ok = response.status == 200
            except OSError:
                pass
        if not flower_ok:
            try:
                socket.create_connection(("127.0.0.1", flower_port), timeout=1).close()
                flower_ok = True
            except OSError:
                pass
        if not worker_ok:
            worker_ok = _worker_answers()
        if web_ok and flower_ok and worker_ok:
            return True
        stop.wait(0.5)
    return False


def _announce_when_ready(manager, *, lines: list[str], web_url: str, flower_port: int, stop: threading.Event):
    from honcho.printer import Message

    def say(text: str) -> None:
        # Through honcho's queue, so it is printed by the same loop as every child's output.
        manager.events.put(Message("line", text, datetime.datetime.now(), "system", None))

    if _wait_until_ready(web_url=web_url, flower_port=flower_port, stop=stop):
        say("\n".join(lines))
    elif not stop.is_set():
        say(f"Still not ready after {READY_TIMEOUT_SECONDS}s: check the output above.")


def main() -> int:
    from honcho.manager import Manager

    signal.signal(signal.SIGTERM, _raise_system_exit)
    # A shell without job control starts background commands with SIGINT ignored; Ctrl-C must still work.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if (BASE_DIR / ".env").exists():
        import environ

        # As the settings do, so a broker or database named in .env is used rather than the embedded one.
        environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    # The local development command: DEBUG on unless the caller decided otherwise.
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    os.environ["PYTHONUNBUFFERED"] = "1"  # children's lines reach honcho as they are written
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "8000"
    flower_port = os.environ.get("FLOWER_PORT") or "5555"
    generated_flower_password = not os.environ.get("FLOWER_BASIC_AUTH")
    if generated_flower_password:
        os.environ["FLOWER_BASIC_AUTH"] = f"admin:{secrets.token_urlsafe(12)}"
    VAR_DIR.mkdir(exist_ok=True)

    redis_process = None
    try:
        if not os.environ.get("CELERY_BROKER_URL"):
            from lms.embedded import start_redis

            redis_process, broker_url = start_redis(workdir=VAR_DIR / "redis")
            os.environ["CELERY_BROKER_URL"] = broker_url  # inherited by every child below
            print(f"Embedded Redis at {broker_url} (pid {redis_process.pid})", flush=True)

        _check_services()
        _manage("migrate", "--noinput")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        _manage("seed_demo")

        from lms.management.commands.seed_demo import LEARNERS, STAFF

        browse_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        web_url = f"http://{browse_host}:{port}"
        flower_user, _, flower_password = os.environ["FLOWER_BASIC_AUTH"].partition(":")
        lines = [
            "LMS is running. Ctrl-C stops everything.",
            f"  Web:    {web_url}/  (learner {LEARNERS[0]['email']} / {LEARNERS[0]['password']})",
            f"  Admin:  {web_url}/admin/  ({STAFF['email']} / {STAFF['password']})",
            f"  API:    {web_url}/api/docs/",
            f"  Flower: http://127.0.0.1:{flower_port}/  ({flower_user} / "
            + (
                f"{flower_password}, generated for this run)"
                if generated_flower_password
                else "from FLOWER_BASIC_AUTH)"
            ),
        ]

        manager = Manager()
        for name, command in _commands(host=host, port=port, flower_port=flower_port).items():
            manager.add_process(name, command, cwd=str(BASE_DIR))
        stop = threading.Event()
        announcer = threading.Thread(
            target=_announce_when_ready,
            args=(manager,),
            kwargs={"lines": lines, "web_url": web_url, "flower_port": int(flower_port), "stop": stop},
            daemon=True,
        )
        announcer.start()
        try:
            manager.loop()  # installs its own SIGINT/SIGTERM handlers that stop every child's process group
        finally:
            stop.set()
        return manager.returncode or 0
    except StartupError as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if redis_process is not None:
            redis_process.terminate()
            try:
                redis_process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                redis_process.kill()
                redis_process.wait()


if __name__ == "__main__":
    sys.exit(main())
