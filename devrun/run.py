"""`make run`: the whole system on one machine, for development, started whole or not at all.

Checks the database and the broker, migrates, collects static files, loads the demo data, then starts web
(gunicorn), worker, beat (exactly one), the outbox relay and Flower under devrun.supervisor, and waits until
every one of them says it is up: web answers /healthz, the worker answers a ping, beat has ticked, the relay
has started, Flower answers. Only then does it print "LMS is running". A service that is not up within
LMS_RUN_READY_TIMEOUT seconds, or that exits at any time, is named in one line and everything is stopped.
Ctrl-C or SIGTERM, at any moment including start-up, stops every child (each one's whole process group)
and the embedded Redis, without a traceback.

Without CELERY_BROKER_URL it starts an embedded Redis (and the cache, for throttles shared by every
process, defaults to another database of it); without DATABASE_URL the settings use SQLite under the var
directory (LMS_VAR_DIR, default var/). SITE_URL defaults to the address served (HOST, PORT).
"""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from devrun.supervisor import Supervisor, wait_until

BASE_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent  # the venv's scripts, whatever PATH says
WORKERS = ("worker",)  # node names are f"{name}@{hostname}"
# The lines beat and the relay print once they run (jobs/beat.py, the outbox_relay command).
BEAT_TICKED = "beat: first tick done"
RELAY_STARTED = "outbox relay started"


class StartupError(Exception):
    """A one-line reason the system cannot start (or stopped)."""


def _check_services() -> None:
    """Raise StartupError naming the database or broker that does not answer (or a bad setting)."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
        from django.db import connections

        from core.reachability import check_broker, check_database

        try:
            problem = check_database() or check_broker()
        finally:
            connections.close_all()  # the children open their own
    except ImproperlyConfigured as exc:  # a malformed DATABASE_URL, a missing SECRET_KEY without DEBUG, ...
        raise StartupError(str(exc).splitlines()[0]) from None
    if problem:
        raise StartupError(problem)


def _manage(supervisor: Supervisor, stop: threading.Event, *args: str) -> None:
    """Run one manage.py command as a supervised child, so a Ctrl-C meanwhile stops it too."""
    name = args[0]
    supervisor.start(name, [sys.executable, str(BASE_DIR / "manage.py"), *args])
    code = supervisor.wait(name, stop=stop)
    if code is None:  # stop requested: left in the supervisor, which stops it
        return
    del supervisor.children[name]
    if code != 0:
        raise StartupError(f"`manage.py {' '.join(args)}` failed (exit {code}); see the output above.")


def _commands(*, host: str, port: str, flower_port: str, var_dir: Path) -> dict[str, list[str]]:
    from django.conf import settings

    celery = [str(BIN_DIR / "celery"), "-A", "lms"]
    queues = ",".join(settings.CELERY_TASK_QUEUES_NAMES)  # the one list of queues (lms/settings.py)
    return {
        "web": [
            str(BIN_DIR / "gunicorn"), "lms.wsgi", "--bind", f"{host}:{port}", "--workers", "2",
            "--access-logfile", "-", "--error-logfile", "-", "--no-control-socket",
        ],
        "worker": [*celery, "worker", "-l", "info", "-Q", queues, "-c", "2", "-n", f"{WORKERS[0]}@%h"],
        # One beat only: two would run every periodic task twice.
        "beat": [
            *celery, "beat", "-l", "info", "--scheduler", "jobs.beat:DatabaseScheduler",
            "--pidfile", str(var_dir / "celerybeat.pid"), "--schedule", str(var_dir / "celerybeat-schedule"),
        ],
        # Publishes jobs whose after-commit publish failed (broker down, a web process killed).
        "relay": [sys.executable, str(BASE_DIR / "manage.py"), "outbox_relay"],
        # Basic auth comes from FLOWER_BASIC_AUTH in Flower's environment (Flower reads it itself), which
        # keeps the password out of `ps`.
        "flower": [*celery, "flower", "--address=127.0.0.1", f"--port={flower_port}"],
    }  # fmt: skip


def _http_answers(url: str, *, ok: tuple[int, ...] = ()) -> bool:
    """True once something answers HTTP at url (with one of `ok` statuses, if given)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        return False
    return not ok or status in ok


def _workers_answer() -> bool:
    from celery import current_app as app  # lms.celery's, loaded with the settings

    expected = {f"{name}@{socket.gethostname()}" for name in WORKERS}
    try:
        replies = app.control.ping(destination=sorted(expected), timeout=1.0)
    except Exception:  # broker hiccup while starting: ask again
        return False
    return expected <= {name for reply in replies for name in reply}


def _readiness_checks(supervisor: Supervisor, *, web_url: str, flower_port: str) -> dict:
    return {
        "web": lambda: _http_answers(f"{web_url}/healthz", ok=(200,)),
        "worker": _workers_answer,
        "beat": lambda: supervisor.has_said("beat", BEAT_TICKED),
        "relay": lambda: supervisor.has_said("relay", RELAY_STARTED),
        "flower": lambda: _http_answers(f"http://127.0.0.1:{flower_port}/"),
    }


def _check_no_exit(supervisor: Supervisor) -> None:
    exited = supervisor.exited()
    if exited:
        name, code = exited
        raise StartupError(f"{name} exited (code {code}); stopping everything.")


def _wait_until_up(supervisor: Supervisor, checks: dict, *, stop: threading.Event, timeout: float) -> None:
    """Return once every check passed; raise StartupError naming what died or is not up in time."""
    pending = dict(checks)

    def progress() -> bool:
        _check_no_exit(supervisor)
        for name, check in list(pending.items()):
            if check():
                del pending[name]
                supervisor.say(f"{name} is up")
        return not pending

    if not wait_until(progress, stop=stop, timeout=timeout) and not stop.is_set():
        raise StartupError(f"not up after {timeout:g}s: {', '.join(pending)}; stopping everything.")


def _banner(*, web_url: str, flower_port: str, generated_flower_password: bool) -> str:
    from devrun.management.commands.seed_demo import LEARNERS, STAFF

    flower_user, _, flower_password = os.environ["FLOWER_BASIC_AUTH"].partition(":")
    flower_login = f"{flower_password}, generated for this run" if generated_flower_password else "FLOWER_BASIC_AUTH"
    return "\n".join([
        "LMS is running. Ctrl-C stops everything.",
        f"  Web:    {web_url}/  (learner {LEARNERS[0]['email']} / {LEARNERS[0]['password']})",
        f"  Admin:  {web_url}/admin/  ({STAFF['email']} / {STAFF['password']})",
        f"  API:    {web_url}/api/docs/",
        f"  Flower: http://127.0.0.1:{flower_port}/  ({flower_user} / {flower_login})",
    ])  # fmt: skip


def _configure_environment() -> dict[str, str]:
    """Set the environment every child inherits; return what main needs (addresses, var dir)."""
    if (BASE_DIR / ".env").exists():
        import environ

        # As the settings do, so a broker or database named in .env is used rather than the embedded one.
        environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    # The local development command: DEBUG on unless the caller decided otherwise.
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    os.environ["PYTHONUNBUFFERED"] = "1"  # children's lines reach us as they are written
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "8000"
    browse_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    web_url = f"http://{browse_host}:{port}"
    # Links in emails and certificates point at the address this run serves.
    os.environ.setdefault("SITE_URL", web_url)
    var_dir = (BASE_DIR / (os.environ.get("LMS_VAR_DIR") or "var")).resolve()  # relative: from the checkout
    os.environ["LMS_VAR_DIR"] = str(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    return {
        "host": host,
        "port": port,
        "flower_port": os.environ.get("FLOWER_PORT") or "5555",
        "web_url": web_url,
        "var_dir": str(var_dir),
    }


def _start_embedded_redis(var_dir: Path) -> subprocess.Popen | None:
    if os.environ.get("CELERY_BROKER_URL"):
        return None
    from devrun.embedded import start_redis

    redis_process, broker_url = start_redis(workdir=var_dir / "redis")
    os.environ["CELERY_BROKER_URL"] = broker_url  # inherited by every child below
    # Throttle counters shared by every web process: another database of the same Redis.
    os.environ.setdefault("CACHE_URL", broker_url.rsplit("/", 1)[0] + "/1")
    print(f"Embedded Redis at {broker_url} (pid {redis_process.pid})", flush=True)
    return redis_process


def _service_environment(name: str, var_dir: Path) -> dict[str, str] | None:
    """Web and worker keep their metrics files apart (each wipes its own at start: docs/metrics.md); the
    worker serves its pool's counters on METRICS_WORKER_PORT, 9808 on loopback unless set."""
    if name not in ("web", "worker"):
        return None
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "metrics" / name)}
    if name == "worker":
        env.setdefault("METRICS_WORKER_PORT", "9808")
        env.setdefault("METRICS_WORKER_ADDRESS", "127.0.0.1")
    return env


def _run(supervisor: Supervisor, stop: threading.Event, config: dict, generated_flower_password: bool) -> None:
    _check_services()
    for args in (("migrate", "--noinput"), ("collectstatic", "--noinput", "--verbosity", "0"), ("seed_demo",)):
        if stop.is_set():
            return
        _manage(supervisor, stop, *args)
    commands = _commands(
        host=config["host"], port=config["port"], flower_port=config["flower_port"], var_dir=Path(config["var_dir"])
    )
    for name, argv in commands.items():
        if stop.is_set():
            return
        supervisor.start(name, argv, env=_service_environment(name, Path(config["var_dir"])))
    timeout = float(os.environ.get("LMS_RUN_READY_TIMEOUT") or 120)
    checks = _readiness_checks(supervisor, web_url=config["web_url"], flower_port=config["flower_port"])
    _wait_until_up(supervisor, checks, stop=stop, timeout=timeout)
    if stop.is_set():
        return
    supervisor.say(
        _banner(
            web_url=config["web_url"],
            flower_port=config["flower_port"],
            generated_flower_password=generated_flower_password,
        )
    )
    while not stop.wait(0.5):
        _check_no_exit(supervisor)


def _stop_redis(redis_process: subprocess.Popen | None) -> None:
    if redis_process is None:
        return
    redis_process.terminate()
    try:
        redis_process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        redis_process.kill()
        redis_process.wait()


def main() -> int:
    stop = threading.Event()
    received: list[int] = []

    def request_stop(signum, frame) -> None:
        # Only a flag: every wait in start-up and supervision checks it, and `finally` stops the children.
        received.append(signum)
        stop.set()

    # SIGHUP (the terminal closed) and SIGQUIT stop everything too: the children run in their own process
    # groups, so nothing else would ever tell them.
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, request_stop)
    # Set even if a shell without job control started us with SIGINT ignored: Ctrl-C must still work.
    signal.signal(signal.SIGINT, request_stop)
    config = _configure_environment()
    generated_flower_password = not os.environ.get("FLOWER_BASIC_AUTH")
    if generated_flower_password:
        os.environ["FLOWER_BASIC_AUTH"] = f"admin:{secrets.token_urlsafe(12)}"
    supervisor = Supervisor(cwd=str(BASE_DIR), watch=(BEAT_TICKED, RELAY_STARTED))
    redis_process = None
    code = 0
    try:
        redis_process = _start_embedded_redis(Path(config["var_dir"]))
        if not stop.is_set():
            _run(supervisor, stop, config, generated_flower_password)
    except StartupError as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        code = 1
    except RuntimeError as exc:  # the embedded Redis did not answer
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_IGN)
        if received:
            # Saying so may fail once the terminal is gone (EIO, EPIPE): the children are stopped regardless.
            with contextlib.suppress(OSError):
                supervisor.say(f"{signal.Signals(received[0]).name} received: stopping everything.")
        supervisor.stop_all()
        _stop_redis(redis_process)
    if received and code == 0:
        with contextlib.suppress(OSError):
            supervisor.say("Stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
