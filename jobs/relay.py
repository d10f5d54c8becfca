"""The outbox relay: it publishes what the request could not, and confirms what the request published.

On a broker it can search (Redis), the request publishes once after its commit and writes nothing more: a
second write per request (the "published" mark) cost more than the row itself (docs/performance.md, P1).
The proof of delivery comes later and in bulk. A job still pending PUBLISH_GRACE after it was queued is
confirmed when the broker holds its message (waiting in a queue, or delivered and unacknowledged) or when
the task has left a trace of running (its TaskResult, or the worker's own mark for tasks that keep no
result); only a job with neither is published (again). On a broker it cannot search, the request marks the
row itself (jobs.enqueue.deliveries_provable) and the relay publishes whatever is due.
"""

import logging

from django.db import connection, transaction
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs.enqueue import deliveries_provable, record_publish_failure, relay_backoff, send
from jobs.models import Job
from jobs.selectors import broker_task_ids

logger = logging.getLogger(__name__)

MAX_PUBLISH_ATTEMPTS = 20  # with backoff capped at 5 min: about an hour and a half before dead letter
ROUND_LIMIT = 1000  # rows per round: confirming is two queries per round, whatever the count
# What a round reads of each row: what its message is made of, and what the relay decides by.
SENT_FIELDS = ("task_id", "task_name", "kwargs", "queue", "not_before", "trace_context", "publish_attempts")


def broker_reachable(timeout: float = 1.0) -> bool:
    from core.reachability import check_broker

    return check_broker(timeout) is None


def outbox_relay(*, limit: int = ROUND_LIMIT, now=None) -> int:
    """Confirm or publish the pending jobs that are due; returns how many it settled (confirmed or published).

    Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so several relays never handle
    one row at the same time (SQLite serialises writers instead). Only rows the request may have published
    (no failed attempt recorded) are looked for on the broker; rows whose publish failed are published
    again. A row that keeps failing backs off and, after MAX_PUBLISH_ATTEMPTS, becomes a dead letter.
    """
    now = now or timezone.now()
    if not broker_reachable():
        return 0  # nothing would get through; try again on the next round without spending attempts
    with transaction.atomic():
        due = (
            Job.objects.filter(publish_state=Job.Publish.PENDING, next_publish_at__lte=now)
            .order_by("next_publish_at")
            .only(*SENT_FIELDS)
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        due = list(due[:limit])
        failed_before = [job for job in due if job.publish_attempts]
        maybe_sent = [job for job in due if not job.publish_attempts]
        confirmed = 0
        if maybe_sent and deliveries_provable():
            confirmed, maybe_sent = _confirm_delivered(maybe_sent, now=now)
        return confirmed + _publish_all(failed_before + maybe_sent)


def _confirm_delivered(due: list[Job], *, now) -> tuple[int, list[Job]]:
    """Mark published the jobs the broker holds or that ran; returns (how many, the jobs still to publish).

    The broker is searched before the results are read: a task taken and finished during the search has
    stored its result by then (results are stored before the message is acknowledged). A message between
    a queue and a worker's unacked set is missed and published again; the task's idempotency makes that
    harmless (docs/reliability.md).
    """
    held = broker_task_ids(queues={job.queue for job in due})
    if held is None:
        _postpone(due, now=now)  # the broker cannot be searched this round: decide nothing
        return 0, []
    ids = [job.task_id for job in due]
    ran = set(TaskResult.objects.filter(task_id__in=ids).values_list("task_id", flat=True))
    delivered = {job.pk for job in due if job.task_id in held.task_ids or job.task_id in ran}
    unsure = [job for job in due if job.pk not in delivered and job.queue in held.unsearched_queues]
    _postpone(unsure, now=now)  # a queue too long to search: look again when it is shorter
    confirmed = Job.objects.filter(pk__in=delivered, publish_state=Job.Publish.PENDING).update(
        publish_state=Job.Publish.PUBLISHED, published_at=now, next_publish_at=None
    )
    left = [job for job in due if job.pk not in delivered and job.queue not in held.unsearched_queues]
    return confirmed, left


def _postpone(jobs: list[Job], *, now) -> None:
    if jobs:
        Job.objects.filter(pk__in=[job.pk for job in jobs]).update(next_publish_at=now + relay_backoff(1))


def _publish_all(jobs: list[Job]) -> int:
    """Publish `jobs` on one broker connection and mark those sent in one UPDATE; returns how many.
    The first failure ends the round: the broker is most likely gone for the rest too."""
    from celery import current_app as app

    if not jobs:
        return 0
    sent = []
    with app.producer_or_acquire() as producer:
        for job in jobs:
            try:
                send(job, producer=producer)
            except Exception as exc:  # the broker went away: this one backs off, the rest wait for a round
                _failed(job, exc)
                break
            sent.append(job.pk)
    return Job.objects.filter(pk__in=sent, publish_state=Job.Publish.PENDING).update(
        publish_state=Job.Publish.PUBLISHED, published_at=timezone.now(), next_publish_at=None
    )


def _failed(job: Job, exc: Exception) -> None:
    if record_publish_failure(job, exc) >= MAX_PUBLISH_ATTEMPTS:
        Job.objects.filter(pk=job.pk).update(publish_state=Job.Publish.DEAD, next_publish_at=None)
        logger.error(
            "job %s %s moved to the dead letters after %s attempts", job.task_name, job.task_id, MAX_PUBLISH_ATTEMPTS
        )


def job_confirm_started(*, task_id: str) -> None:
    """The worker's own mark, for tasks that keep no result: the job reached a worker (jobs.worker)."""
    Job.objects.filter(task_id=task_id, publish_state=Job.Publish.PENDING).update(
        publish_state=Job.Publish.PUBLISHED, published_at=timezone.now(), next_publish_at=None
    )
