"""Operations services: retrying jobs, sweeping stuck and lost ones, pruning old results (the outbox relay
is jobs.relay)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs.enqueue import enqueue, send
from jobs.models import Job
from jobs.selectors import broker_task_ids

logger = logging.getLogger(__name__)


class JobNotRetryable(Exception):
    pass


def job_requeue_dead(*, jobs) -> int:
    """Give dead-letter jobs a fresh start in the outbox."""
    return Job.objects.filter(pk__in=[j.pk for j in jobs], publish_state=Job.Publish.DEAD).update(
        publish_state=Job.Publish.PENDING, publish_attempts=0, next_publish_at=timezone.now(), last_publish_error=""
    )


def job_retry(*, job: Job, by: str) -> Job:
    """Queue a failed job again from its stored JSON arguments, as a new job recorded as its retry.

    Only registered tasks can be retried (looked up by name, never evaluated). Raises JobNotRetryable.
    """
    from celery import current_app as app

    app.loader.import_default_modules()
    task = app.tasks.get(job.task_name)
    if task is None:
        raise JobNotRetryable(f"{job.task_name} is not a registered task")
    from jobs.context import current_trigger

    token = current_trigger.set(f"retry by {by}"[:120])
    try:
        with transaction.atomic():
            return enqueue(task, about=job.about if job.content_type_id else None, retry_of=job, **job.kwargs)
    finally:
        current_trigger.reset(token)


def task_hard_limit(task_name: str) -> int:
    from celery import current_app as app

    task = app.tasks.get(task_name)
    return int(getattr(task, "time_limit", None) or settings.CELERY_TASK_TIME_LIMIT)


def jobs_sweep_stuck(*, now=None, margin_seconds: int = 30) -> int:
    """Mark results still STARTED past their task's hard time limit as failed (the worker died).

    The broker will hand such a message out again after the visibility timeout (late acks), so a rerun
    may still succeed and overwrite this; until then staff see a failure they can act on.
    """
    now = now or timezone.now()
    swept = 0
    started = TaskResult.objects.filter(status="STARTED", date_created__lt=now - timedelta(seconds=margin_seconds))
    for result in started.only("id", "task_name", "date_created", "date_started"):
        began = getattr(result, "date_started", None) or result.date_created
        if began < now - timedelta(seconds=task_hard_limit(result.task_name or "") + margin_seconds):
            swept += TaskResult.objects.filter(pk=result.pk, status="STARTED").update(
                status="FAILURE",
                date_done=now,
                result='{"exc_type": "WorkerLost", "exc_message": "still running past its hard time limit"}',
                traceback="Marked failed by the stuck-job sweeper: the task outlived its hard time limit, so "
                "the worker running it is presumed dead.",
            )
    return swept


# Only jobs this recent are reconciled: it bounds the sweep's query to an hour of jobs (indexed by
# created_at), and keeps it far from the nightly prune, which deletes results before their jobs.
RECONCILE_LOOKBACK = timedelta(hours=1)


def _tasks_without_results() -> list[str]:
    from celery import current_app as app

    app.loader.import_default_modules()
    return [name for name, task in app.tasks.items() if task.ignore_result]


def jobs_reconcile_lost(*, now=None, limit: int = 200) -> int:
    """Publish again jobs whose message the broker lost; returns how many were published again.

    A job is lost when it was published JOBS_RECONCILE_AFTER_SECONDS ago (or its countdown ended that
    long ago), has no TaskResult (it never started: every task that keeps results stores one when it
    starts, ends or retries), and its task id is in no queue and in no worker's unacked set on the
    broker. The Redis transport loses such a message when a worker is killed after taking it from the
    queue and before recording it as unacked. Tasks that keep no results are never judged. Each job is
    published again at most JOBS_RECONCILE_MAX_TIMES times, then left for staff (the operations page
    lists it as lost). A duplicate, should the message turn up after all, is harmless: tasks are
    idempotent.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOBS_RECONCILE_AFTER_SECONDS)
    suspects = list(
        Job.objects.filter(
            publish_state=Job.Publish.PUBLISHED,
            created_at__gte=now - RECONCILE_LOOKBACK,
            published_at__lt=cutoff,
            reconciled_count__lt=settings.JOBS_RECONCILE_MAX_TIMES,
        )
        .filter(Q(not_before__isnull=True) | Q(not_before__lt=cutoff))
        .exclude(task_name__in=_tasks_without_results())
        .exclude(Exists(TaskResult.objects.filter(task_id=OuterRef("task_id"))))
        .order_by("published_at")[:limit]
    )
    if not suspects:
        return 0
    held = broker_task_ids(queues={job.queue for job in suspects})
    if held is None:
        return 0  # not Redis, or the broker cannot be read: nothing can be called lost
    missing = [j for j in suspects if j.task_id not in held.task_ids and j.queue not in held.unsearched_queues]
    # A task that ran while the broker was searched has its result by now.
    ran = set(TaskResult.objects.filter(task_id__in=[j.task_id for j in missing]).values_list("task_id", flat=True))
    republished = 0
    for job in missing:
        if job.task_id not in ran and _job_publish_again(job=job, now=now):
            republished += 1
    return republished


def jobs_publish_lost_again(*, jobs) -> int:
    """Staff's "publish again" for jobs marked lost: those that still have no result and that the broker
    does not hold (waiting in a queue, or delivered to a worker) are published now. When the broker cannot
    be searched, staff's word decides: a duplicate is harmless, tasks being idempotent."""
    now = timezone.now()
    ran = set(TaskResult.objects.filter(task_id__in=[j.task_id for j in jobs]).values_list("task_id", flat=True))
    pending = [j for j in jobs if j.publish_state == Job.Publish.PUBLISHED and j.task_id not in ran]
    held = broker_task_ids(queues={job.queue for job in pending}) if pending else None
    if held is not None:
        pending = [j for j in pending if j.task_id not in held.task_ids and j.queue not in held.unsearched_queues]
    return sum(_job_publish_again(job=job, now=now) for job in pending)


def _job_publish_again(*, job: Job, now) -> bool:
    try:
        send(job)
    except Exception as exc:  # broker gone meanwhile: the next sweep tries again
        logger.warning("publishing lost job %s %s again failed: %s", job.task_name, job.task_id, exc)
        return False
    Job.objects.filter(pk=job.pk).update(
        reconciled_count=F("reconciled_count") + 1, reconciled_at=now, published_at=now
    )
    logger.warning(
        "job %s %s was published %s and never ran: its message was lost, published it again (%s time(s))",
        job.task_name,
        job.task_id,
        job.published_at.isoformat() if job.published_at else "?",
        job.reconciled_count + 1,
    )
    return True
