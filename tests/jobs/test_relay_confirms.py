"""The request publishes once and writes nothing after its commit; the relay proves delivery later, in bulk
(jobs.relay): from the broker's own queues and unacked set, from the task's result, or from the worker's
mark. Real PostgreSQL (or SQLite), real Redis, a real worker where one runs."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_results.models import TaskResult

from certificates.tasks import certificates_issue_named_waiting_task
from jobs.enqueue import enqueue
from jobs.models import Job
from jobs.relay import outbox_relay
from jobs.tasks import ping_task
from tests.conftest import broker_client, purge_queues
from tests.utils import wait_for

pytestmark = pytest.mark.integration

LATER = timedelta(seconds=10)  # past the publish grace: the relay looks at the job


def _messages_for(task_id: str, queue: str = "default") -> int:
    raw = broker_client().lrange(queue, 0, -1)
    return sum(json.loads(message)["headers"]["id"] == task_id for message in raw)


def _relay_later() -> int:
    return outbox_relay(now=timezone.now() + LATER)


@pytest.fixture
def no_worker(celery_worker_process, transactional_db):
    celery_worker_process.stop()
    purge_queues()
    yield
    purge_queues()
    celery_worker_process.start()


def test_the_request_publishes_once_and_writes_nothing_to_the_job_after_its_commit(no_worker):
    with CaptureQueriesContext(connection) as queries:
        job = enqueue(ping_task, note="one write")

    job_writes = [q["sql"] for q in queries.captured_queries if "lms_job" in q["sql"]]
    assert len(job_writes) == 1 and job_writes[0].startswith("INSERT"), job_writes
    assert _messages_for(job.task_id) == 1
    assert Job.objects.get(pk=job.pk).publish_state == Job.Publish.PENDING


def test_the_relay_leaves_a_job_in_its_grace_alone(no_worker):
    job = enqueue(ping_task, note="fresh")
    assert outbox_relay() == 0
    assert Job.objects.get(pk=job.pk).publish_state == Job.Publish.PENDING
    assert _messages_for(job.task_id) == 1


def test_a_message_waiting_in_its_queue_is_confirmed_not_published_again(no_worker):
    job = enqueue(ping_task, note="waiting")

    assert _relay_later() == 1

    confirmed = Job.objects.get(pk=job.pk)
    assert confirmed.publish_state == Job.Publish.PUBLISHED and confirmed.published_at
    assert confirmed.publish_attempts == 0
    assert _messages_for(job.task_id) == 1


def test_a_message_the_broker_lost_is_published_again(no_worker):
    job = enqueue(ping_task, note="lost")
    (raw,) = [m for m in broker_client().lrange("default", 0, -1) if job.task_id in m.decode()]
    broker_client().lrem("default", 0, raw)  # the broker lost it between the request's publish and now

    assert _relay_later() == 1

    assert Job.objects.get(pk=job.pk).publish_state == Job.Publish.PUBLISHED
    assert _messages_for(job.task_id) == 1


def test_a_job_that_ran_is_confirmed_from_its_result_and_not_run_again(worker, celery_worker_process):
    job = enqueue(ping_task, note="ran")
    wait_for(lambda: TaskResult.objects.filter(task_id=job.task_id, status="SUCCESS").exists(), message="the run")
    celery_worker_process.stop()  # nothing may consume a second message unseen
    try:
        assert _relay_later() == 1
        assert Job.objects.get(pk=job.pk).publish_state == Job.Publish.PUBLISHED
        assert _messages_for(job.task_id) == 0
    finally:
        purge_queues()
        celery_worker_process.start()


def test_a_task_that_keeps_no_result_is_confirmed_by_the_worker_that_took_it(worker):
    assert certificates_issue_named_waiting_task.ignore_result
    job = enqueue(certificates_issue_named_waiting_task)

    wait_for(
        lambda: Job.objects.filter(pk=job.pk, publish_state=Job.Publish.PUBLISHED).exists(),
        message="the worker's mark",
    )
    assert _relay_later() == 0
    assert not TaskResult.objects.filter(task_id=job.task_id).exists()


def test_a_failed_publish_is_still_recorded_and_left_to_the_relay(no_worker, monkeypatch):
    def broker_refuses(job):
        raise ConnectionError("broker down (simulated)")

    monkeypatch.setattr("jobs.enqueue.send", broker_refuses)
    job = enqueue(ping_task, note="refused")
    monkeypatch.undo()
    refused = Job.objects.get(pk=job.pk)
    assert refused.publish_attempts == 1 and "broker down" in refused.last_publish_error

    outbox_relay(now=timezone.now() + timedelta(minutes=5))

    assert Job.objects.get(pk=job.pk).publish_state == Job.Publish.PUBLISHED
    assert _messages_for(job.task_id) == 1
