"""The bench's own environment: database `lms_bench`, Redis db 9, media under var/bench/, never dev/test data.

`configure()` must run before Django is set up: it fixes the environment read by lms/settings.py in this
process and in every child process (gunicorn, workers), so they all see the same database and broker.
"""

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lms_bench")
# The database reset_database drops and recreates: the one BENCH_DATABASE_URL names, never another.
DATABASE_NAME = DATABASE_URL.rsplit("/", 1)[1].split("?", 1)[0]
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")

ENV = {
    "DJANGO_SETTINGS_MODULE": "lms.settings",
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "THROTTLE_USER": "1000000/min",
    "THROTTLE_ANON": "1000000/min",
    "MEDIA_ROOT": str(VAR / "media"),
    "STATIC_ROOT": str(VAR / "static"),
    "EMAIL_BACKEND": "anymail.backends.test.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "60",
    "PYTHONUNBUFFERED": "1",
}
# Variables of a developer's shell or .env that would change what is measured.
UNSET = ("SENTRY_DSN", "STORAGE_BACKEND", "CACHE_URL", "RATELIMIT_CACHE_URL", "CELERY_TASK_ALWAYS_EAGER")


def configure(settings: str = "lms.settings") -> None:
    """Point this process (and the children it starts) at the bench database, broker and media."""
    for name in UNSET:
        os.environ.pop(name, None)
    ENV["DJANGO_SETTINGS_MODULE"] = settings
    os.environ.update(ENV)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **ENV, **extra}


def reset_database() -> None:
    """Drop and recreate `lms_bench` (a migrate from empty takes about 2 s), before Django connects."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE_NAME}")


def reset_files() -> None:
    for folder in ("media", "logs"):
        shutil.rmtree(VAR / folder, ignore_errors=True)
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    (VAR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT: whitenoise warns when it is missing


def redis_client():
    import redis

    return redis.Redis.from_url(BROKER_URL)


def flush_redis() -> None:
    redis_client().flushdb()


def purge_queues() -> None:
    """Drop every queued and unacknowledged message (between benchmarks, with no worker running)."""
    from django.conf import settings

    redis_client().delete(*settings.CELERY_TASK_QUEUES_NAMES, "bare", "unacked", "unacked_index")


def machine() -> dict[str, str]:
    import psutil

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": model or "unknown",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "load": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
    }


def versions() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    redis_version = redis_client().info("server")["redis_version"]
    found = {"Python": platform.python_version()}
    for dist in ("Django", "celery", "kombu", "gunicorn", "psycopg", "xhtml2pdf", "httpx"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "?"
    found["PostgreSQL"] = postgres
    found["Redis"] = redis_version
    return found


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return out + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"
