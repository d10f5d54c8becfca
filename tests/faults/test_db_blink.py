"""Nothing lost when the database blinks: connections ended by pg_terminate_backend (as a PostgreSQL restart
or an operator does), and the database refusing connections for a while. Real worker and relay processes
against the real PostgreSQL; the end state is checked in the database."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_results.models import TaskResult

from certificates.models import Certificate
from certificates.tasks import certificate_issue_task
from jobs.enqueue import enqueue
from jobs.models import Job
from jobs.schedules import sync_periodic_tasks
from jobs.tasks import ping_task
from notifications.models import Notification
from tests.conftest import ROOT, WorkerProcess, _database_url_for_tests, purge_queues, queue_length
from tests.enrollments.factories import EnrollmentFactory
from tests.faults.burst import Burst
from tests.faults.conftest import VISIBILITY_TIMEOUT
from tests.faults.database import BackendKiller, database_down, my_backend_pid, other_backends, terminate_backends
from tests.notifications.webhook_receiver import receiver_fixture  # noqa: F401 - fixture
from tests.utils import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def one_process_worker(postgres_only, broker, transactional_db, clean_media):
    """A worker with a single pool process, so the test knows whose connection it ends."""
    worker = WorkerProcess(
        concurrency=1,
        extra_env={"CELERY_BROKER_URL": broker.url, "CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT},
    )
    yield worker.start()
    worker.stop(signal.SIGKILL)


def _succeeded(job: Job) -> bool:
    return TaskResult.objects.filter(task_id=job.task_id, status="SUCCESS").exists()


def test_task_after_its_workers_idle_connection_was_killed_runs(one_process_worker):
    warm_up = enqueue(ping_task, note="open the pool process's connection")
    wait_for(lambda: _succeeded(warm_up), message="the warm-up ping")
    me = my_backend_pid()
    wait_for(lambda: other_backends(keep={me}), message="the worker's idle connection")
    terminate_backends(keep={me})  # the next statement on it fails: the STARTED state is written first
    enrollment = EnrollmentFactory(status="completed", completed_at=timezone.now())

    job = enqueue(certificate_issue_task, enrollment_id=enrollment.pk)

    wait_for(lambda: _succeeded(job), timeout=30, message="the certificate task to succeed")
    assert Certificate.objects.filter(enrollment=enrollment, status="issued").count() == 1
    wait_for(
        lambda: Notification.objects.filter(kind="certificate_issued", status="sent").exists(),
        message="the certificate email",
    )


def test_database_down_when_a_task_starts_runs_it_once_the_database_is_back(one_process_worker):
    enrollment = EnrollmentFactory(status="completed", completed_at=timezone.now())
    me = my_backend_pid()
    with database_down(keep={me}):
        job = enqueue(certificate_issue_task, enrollment_id=enrollment.pk)
        wait_for(
            lambda: f"[{job.task_id}] received" in one_process_worker.log_path.read_text(errors="replace"),
            timeout=30,
            message="the worker to take the task while the database is down",
        )
        # It cannot store STARTED: it must hand the message back rather than acknowledge it as failed.
        time.sleep(3)
    wait_for(lambda: _succeeded(job), timeout=60, message="the task, once the database is back")
    assert Certificate.objects.filter(enrollment=enrollment, status="issued").count() == 1


def test_connections_killed_repeatedly_during_a_burst_lose_no_work(postgres_only, fault_worker, receiver):
    burst = Burst(learners=12, lessons=3, webhook_url=receiver.url)
    fault_worker()
    # Ended about once a second, the workers' connections are often idle when killed: the next task's
    # first statement (its STARTED state, for most tasks) finds them dead.
    with BackendKiller(interval=0.7, keep={my_backend_pid()}) as killer:
        burst.complete_all(between=lambda: time.sleep(1))
        # And on while the certificates, emails and webhooks the last lessons set off are under way.
        wait_for(lambda: killer.rounds >= 15, timeout=60, message="fifteen rounds of killed connections")
    try:
        wait_for(burst.done, timeout=240, interval=1, message="the burst's work")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {burst}") from None
    burst.assert_each_effect_once(receiver)


def _process(log_path, *command: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url_for_tests(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,  # the fault broker
    }
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_outbox_relay_survives_a_killed_connection(postgres_only, broker, transactional_db, tmp_path):
    relay = _process(tmp_path / "relay.log", "manage.py", "outbox_relay", "--interval", "0.2")
    try:
        me = my_backend_pid()
        wait_for(lambda: other_backends(keep={me}), timeout=30, message="the relay's database connection")
        terminate_backends(keep={me})
        job = Job.objects.create(task_name=ping_task.name, queue="default", next_publish_at=timezone.now())

        wait_for(
            lambda: Job.objects.filter(pk=job.pk, publish_state="published").exists(),
            timeout=30,
            message="the relay to publish after its connection was killed",
        )
        assert relay.poll() is None, (tmp_path / "relay.log").read_text()
    finally:
        os.killpg(relay.pid, signal.SIGTERM)
        relay.wait(timeout=10)


def test_beat_survives_a_killed_connection(postgres_only, broker, transactional_db, tmp_path):
    sync_periodic_tasks()
    beat = _process(tmp_path / "beat.log", "-m", "celery", "-A", "lms", "beat", "-l", "info")
    try:
        # Interval tasks that never ran are due at once; then the outbox relay's every 10 s, webhooks' every 5.
        wait_for(lambda: queue_length("default"), timeout=60, message="beat's first periodic tasks")
        me = my_backend_pid()
        wait_for(lambda: other_backends(keep={me}), timeout=30, message="beat's database connection")
        terminate_backends(keep={me})
        purge_queues()

        wait_for(lambda: queue_length("default"), timeout=60, message="periodic tasks after beat lost its connection")
        assert beat.poll() is None, (tmp_path / "beat.log").read_text()
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        try:
            beat.wait(timeout=30)  # beat saves its schedule on the way out
        except subprocess.TimeoutExpired:
            os.killpg(beat.pid, signal.SIGKILL)
            beat.wait()
