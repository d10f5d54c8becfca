"""Shared fixtures. Integration tests cross real boundaries: the test database, the broker, and a Celery
worker running as a separate process against both."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.utils import wait_for

ROOT = Path(__file__).resolve().parent.parent
ALL_QUEUES = ",".join(settings.CELERY_TASK_QUEUES_NAMES)


def _database_url_for_tests() -> str:
    """A DATABASE_URL naming the test database pytest-django created, for child processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def broker_client() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queue_length(name: str = "default") -> int:
    return broker_client().llen(name)


def purge_queues() -> None:
    client = broker_client()
    client.delete(*settings.CELERY_TASK_QUEUES_NAMES, "unacked", "unacked_index")


class WorkerProcess:
    """A `celery worker` child process; tests that kill workers stop and start it."""

    def __init__(self, *, queues: str = ALL_QUEUES, concurrency: int = 2, extra_env: dict | None = None):
        self.queues = queues
        self.concurrency = concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": _database_url_for_tests(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"test-worker-{os.getpid()}.log"

    def start(self) -> "WorkerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lms", "worker", "-l", "info", "-Q", self.queues,
             "-c", str(self.concurrency), "-n", f"test-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        from lms.celery import app

        name = f"test-{os.getpid()}@"
        wait_for(
            lambda: any(k.startswith(name) for r in (app.control.ping(timeout=0.5) or []) for k in r),
            timeout=60,
            message="the Celery worker to answer ping",
        )
        return self

    @property
    def name(self) -> str:
        return f"test-{os.getpid()}@{socket.gethostname()}"

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until the worker runs nothing and holds nothing, discarding tasks held for later (ETA).

        Called between tests, so a task of one test never touches the database while the next test's
        set-up flushes it (TRUNCATE against a running task deadlocks)."""
        from lms.celery import app

        if self.process is None or self.process.poll() is not None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            purge_queues()
            inspect = app.control.inspect(destination=[self.name], timeout=1.0)
            scheduled = [entry["request"]["id"] for entry in (inspect.scheduled() or {}).get(self.name, [])]
            if scheduled:
                app.control.revoke(scheduled, destination=[self.name])
            busy = (inspect.active() or {}).get(self.name, []) + (inspect.reserved() or {}).get(self.name, [])
            if not busy and not scheduled:
                return
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """One real worker for the session, consuming every queue against the test database."""
    purge_queues()
    worker = WorkerProcess().start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    """A running worker and a transactional test (committed rows, so the worker can see them)."""
    purge_queues()
    if celery_worker_process.process is None or celery_worker_process.process.poll() is not None:
        celery_worker_process.start()
    yield celery_worker_process
    celery_worker_process.settle()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings):
    """Django's test set-up swaps in locmem mail; put back anymail's (scripted) test backend so tests see
    anymail's statuses and errors, as the worker processes do with tests.settings."""
    settings.EMAIL_BACKEND = "tests.email_backends.ScriptedEmailBackend"
    client = broker_client()
    for key in client.scan_iter("test-email-failures:*"):
        client.delete(key)


@pytest.fixture
def clean_media():
    """An empty certificates folder in the test media root (shared with the worker processes)."""
    import shutil

    shutil.rmtree(Path(settings.MEDIA_ROOT) / "certificates", ignore_errors=True)
