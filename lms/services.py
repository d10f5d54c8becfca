"""Operations services: the outbox relay, retrying jobs, sweeping stuck ones, pruning old results."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_celery_results.models import TaskResult

from lms.models import Job
from lms.tasks import enqueue, publish

logger = logging.getLogger(__name__)

MAX_PUBLISH_ATTEMPTS = 20  # with backoff capped at 5 min: about an hour and a half before dead letter


class JobNotRetryable(Exception):
    pass


def broker_reachable(timeout: float = 1.0) -> bool:
    from lms.startup import check_broker

    return check_broker(timeout) is None


def outbox_relay(*, limit: int = 200, now=None) -> int:
    """Publish pending jobs whose publish is due; returns how many reached the broker.

    Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so several relays never
    publish one row at the same time (SQLite serialises writers instead). A row that keeps failing backs
    off and, after MAX_PUBLISH_ATTEMPTS, becomes a dead letter for staff to requeue.
    """
    now = now or timezone.now()
    if not broker_reachable():
        return 0  # nothing would get through; try again on the next round without spending attempts
    published = 0
    with transaction.atomic():
        due = Job.objects.filter(publish_state=Job.Publish.PENDING, next_publish_at__lte=now).order_by(
            "next_publish_at"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for job in due[:limit]:
            if publish(job):
                published += 1
                continue
            job.refresh_from_db(fields=["publish_attempts"])
            if job.publish_attempts >= MAX_PUBLISH_ATTEMPTS:
                Job.objects.filter(pk=job.pk).update(publish_state=Job.Publish.DEAD, next_publish_at=None)
                logger.error(
                    "job %s %s moved to the dead letters after %s attempts",
                    job.task_name,
                    job.task_id,
                    job.publish_attempts,
                )
    return published


def job_requeue_dead(*, jobs) -> int:
    """Give dead-letter jobs a fresh start in the outbox."""
    return Job.objects.filter(pk__in=[j.pk for j in jobs], publish_state=Job.Publish.DEAD).update(
        publish_state=Job.Publish.PENDING, publish_attempts=0, next_publish_at=timezone.now(), last_publish_error=""
    )


def job_retry(*, job: Job, by: str) -> Job:
    """Queue a failed job again from its stored JSON arguments, as a new job recorded as its retry.

    Only registered tasks can be retried (looked up by name, never evaluated). Raises JobNotRetryable.
    """
    from lms.celery import app

    app.loader.import_default_modules()
    task = app.tasks.get(job.task_name)
    if task is None:
        raise JobNotRetryable(f"{job.task_name} is not a registered task")
    from lms.context import current_trigger

    token = current_trigger.set(f"retry by {by}"[:120])
    try:
        with transaction.atomic():
            return enqueue(task, about=job.about if job.content_type_id else None, retry_of=job, **job.kwargs)
    finally:
        current_trigger.reset(token)


def task_hard_limit(task_name: str) -> int:
    from lms.celery import app

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


def results_prune(*, now=None) -> dict:
    """Delete old task results and job rows: successes after a week, failures after a month (settings)."""
    now = now or timezone.now()
    keep_success = timedelta(days=settings.RESULTS_KEEP_SUCCESS_DAYS)
    keep_failure = timedelta(days=settings.RESULTS_KEEP_FAILURE_DAYS)
    ok, _ = TaskResult.objects.filter(status="SUCCESS", date_done__lt=now - keep_success).delete()
    failed, _ = (
        TaskResult.objects.exclude(status__in=["SUCCESS", "PENDING", "STARTED"])
        .filter(date_done__lt=now - keep_failure)
        .delete()
    )
    jobs, _ = (
        Job.objects.filter(created_at__lt=now - max(keep_success, keep_failure))
        .exclude(publish_state=Job.Publish.DEAD)
        .delete()
    )
    return {"succeeded": ok, "failed": failed, "jobs": jobs}
