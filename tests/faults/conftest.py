"""Fault injection: a broker of the suite's own (so it can be stopped and restarted), workers with a
short visibility timeout (so a killed worker's message comes back in seconds), and row locks held by the
test to catch a task in the middle of its work."""

import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from django.db import close_old_connections, connection, transaction

from devrun.embedded import redis_server_command, wait_for_redis
from lms.celery import app
from tests.conftest import ROOT, WorkerProcess, is_postgres

VISIBILITY_TIMEOUT = "5"


class Broker:
    """A redis-server with an append-only file, like a production broker that survives restarts."""

    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir = port, workdir
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Broker":
        command = redis_server_command(port=self.port, workdir=self.workdir)
        command[command.index("--appendonly") + 1] = "yes"
        command += ["--appendfsync", "always"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_redis(self.url)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # a clean shutdown, as an operator's restart
            self.process.wait(timeout=10)
        self.process = None


def _reset_broker_connections() -> None:
    # Forget the pools of the old broker; Celery finds (kombu's registry, keyed by URL) or builds the new
    # broker's pools on the next publish. They are not closed: the registry would hand them back closed.
    app._pool = None
    app.amqp._producer_pool = None
    app.control.mailbox.__dict__.pop("producer_pool", None)  # a cached_property of the old broker


@pytest.fixture
def broker(settings, celery_worker_process):
    """Point this test process and its workers at a broker the test may stop and start."""
    from devrun.embedded import free_port

    celery_worker_process.stop()  # the session worker listens elsewhere; free the CPU for these
    workdir = ROOT / "var" / f"fault-broker-{free_port()}"
    broker = Broker(free_port(), workdir).start()
    keys = ("CELERY_BROKER_URL", "broker_url", "broker_write_url", "broker_read_url")
    previous = {key: app.conf.get(key) for key in keys}
    settings.CELERY_BROKER_URL = broker.url
    app.conf.update(dict.fromkeys(keys, broker.url))
    _reset_broker_connections()
    yield broker
    broker.stop()
    app.conf.update(previous)
    _reset_broker_connections()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def fault_worker(broker, transactional_db, clean_media):
    """Start workers on the fault broker; every worker started is stopped at the end."""
    started: list[WorkerProcess] = []

    def start(**extra_env) -> WorkerProcess:
        worker = WorkerProcess(
            extra_env={
                "CELERY_BROKER_URL": broker.url,
                "CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT,
                "CELERY_UNACKED_RESTORE_INTERVAL": "1",
                **extra_env,
            }
        )
        started.append(worker)  # before start(): a worker that never answers is still stopped
        return worker.start()

    yield start
    for worker in started:
        worker.stop(signal.SIGKILL)


class RowLock:
    """Holds SELECT ... FOR UPDATE on some rows from another connection until released."""

    def __init__(self, queryset):
        self.queryset = queryset
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        try:
            with transaction.atomic():
                # NO KEY UPDATE: blocks the task's FOR UPDATE but not inserts that reference the row.
                list(self.queryset.select_for_update(no_key=True))
                self.locked.set()
                self.release.wait(timeout=120)
        finally:
            close_old_connections()

    def __enter__(self) -> "RowLock":
        self.thread.start()
        assert self.locked.wait(10), "could not take the row lock"
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.fixture
def postgres_only():
    if not is_postgres():
        pytest.skip("needs PostgreSQL: row locks hold a task mid-run (SQLite has no SELECT ... FOR UPDATE)")


def waiting_backends(table: str = "enrollments_enrollment") -> list[int]:
    """Backends of the test database blocked on a row lock of `table` (the task whose row we hold), whether
    in a SELECT ... FOR UPDATE or an UPDATE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid() AND query LIKE %s",
            [f'%"{table}"%'],
        )
        return [row[0] for row in cursor.fetchall()]
