"""The reconciliation sweep (jobs.services.jobs_reconcile_lost) against the real broker: a job whose message
the broker lost is published again; a job still waiting, held by a worker, or already run is left alone."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs.enqueue import enqueue, publish
from jobs.models import Job
from jobs.services import jobs_reconcile_lost
from jobs.tasks import outbox_relay_task, ping_task
from tests.conftest import broker_client, purge_queues, queue_length

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_queues():
    purge_queues()
    yield
    purge_queues()


def _published(task=ping_task, **kwargs) -> Job:
    job = enqueue(task, **kwargs)
    assert publish(job)
    job.refresh_from_db()
    return job


def _later(seconds: int = 121):
    return timezone.now() + timedelta(seconds=seconds)


def _lose_message(queue: str = "default") -> dict:
    """What a worker killed between taking a message from Redis and recording it as unacked leaves."""
    return json.loads(broker_client().rpop(queue))


def test_job_whose_message_was_lost_is_published_again_once(client, admin_user):
    job = _published(note="lost")
    assert _lose_message()["headers"]["id"] == job.task_id

    assert jobs_reconcile_lost(now=_later()) == 1

    job.refresh_from_db()
    assert job.reconciled_count == 1 and job.reconciled_at is not None
    waiting = json.loads(broker_client().lindex("default", 0))
    assert waiting["headers"]["id"] == job.task_id
    # The new publish restarts the clock: the same sweep a moment later leaves it alone.
    assert jobs_reconcile_lost(now=_later()) == 0
    assert queue_length("default") == 1

    client.force_login(admin_user)
    page = client.get("/admin/jobs/job/operations/").content.decode()
    assert "1 job(s) published again" in page
    assert job.task_id[:6] in page


def test_job_still_waiting_in_its_queue_is_left_alone():
    _published(note="waiting")
    assert jobs_reconcile_lost(now=_later()) == 0
    assert queue_length("default") == 1


def test_job_held_unacknowledged_by_a_worker_is_left_alone():
    job = _published(note="held")
    message = _lose_message()
    # As kombu records a message a worker took (and keeps it until acknowledged, ETA or not).
    broker_client().hset("unacked", "tag-1", json.dumps([message, "", "default"]))
    assert jobs_reconcile_lost(now=_later()) == 0
    assert Job.objects.get(pk=job.pk).reconciled_count == 0


def test_job_that_ran_or_is_recent_or_keeps_no_result_is_left_alone():
    ran = _published(note="ran")
    TaskResult.objects.create(task_id=ran.task_id, status="SUCCESS")
    recent = _published(note="recent")
    no_result = _published(outbox_relay_task)
    purge_queues()

    assert jobs_reconcile_lost(now=_later(30)) == 0
    assert jobs_reconcile_lost(now=_later()) == 1
    assert list(Job.objects.filter(reconciled_count=1).values_list("pk", flat=True)) == [recent.pk]
    assert Job.objects.get(pk=no_result.pk).reconciled_count == 0


def test_job_lost_every_time_is_given_up_and_shown_as_lost(settings, client, admin_user):
    settings.JOBS_RECONCILE_MAX_TIMES = 2
    job = _published(note="always lost")
    for minutes in (3, 6, 9):
        purge_queues()
        jobs_reconcile_lost(now=_later(60 * minutes))
    assert Job.objects.get(pk=job.pk).reconciled_count == 2

    client.force_login(admin_user)
    page = client.get("/admin/jobs/job/operations/").content.decode()
    assert "<strong>1 lost</strong>" in page
    listed = client.get("/admin/jobs/job/?reconciled=yes").content.decode()
    assert "1 job" in listed and "lms.ping" in listed


def test_staff_publish_a_lost_job_again_from_the_jobs_list(client, admin_user):
    job = _published(note="given up")
    ran = _published(note="ran meanwhile")
    TaskResult.objects.create(task_id=ran.task_id, status="SUCCESS")
    purge_queues()
    client.force_login(admin_user)

    response = client.post(
        "/admin/jobs/job/",
        {"action": "publish_lost_again", "_selected_action": [job.pk, ran.pk]},
        follow=True,
    )

    assert "Published 1 job(s) again" in response.content.decode()
    assert json.loads(broker_client().lindex("default", 0))["headers"]["id"] == job.task_id
    assert queue_length("default") == 1
    assert Job.objects.get(pk=job.pk).reconciled_count == 1
