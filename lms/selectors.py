"""Reads for operations: jobs joined with their Celery results, and the last day's summary."""

from datetime import timedelta

from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_celery_results.models import TaskResult

from lms.models import Job

# What staff read, from Celery's states joined by task id (a job with no result yet is queued).
STATE_LABELS = {
    "QUEUED": "queued",
    "STARTED": "started",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "RETRY": "retried",
    "REVOKED": "revoked",
}


def job_list_with_state() -> QuerySet[Job]:
    """Jobs annotated with `state` (their TaskResult's status, or QUEUED) in one query."""
    status = TaskResult.objects.filter(task_id=OuterRef("task_id")).values("status")[:1]
    return Job.objects.annotate(state=Coalesce(Subquery(status), Value("QUEUED"))).select_related(
        "content_type", "retry_of"
    )


def job_list_failed(*, task_name: str | None = None, since=None) -> QuerySet[Job]:
    jobs = job_list_with_state().filter(state="FAILURE", retries__isnull=True)
    if task_name:
        jobs = jobs.filter(task_name=task_name)
    if since is not None:
        jobs = jobs.filter(created_at__gte=since)
    return jobs.order_by("created_at")


def operations_summary(*, hours: int = 24) -> dict:
    """Counts by task and state for the last `hours`, and each queue's current length on the broker."""
    since = timezone.now() - timedelta(hours=hours)
    rows = (
        job_list_with_state()
        .filter(created_at__gte=since)
        .order_by()
        .values("task_name", "state")
        .annotate(count=Count("id"))
        .order_by("task_name", "state")
    )
    by_task: dict[str, dict[str, int]] = {}
    for row in rows:
        by_task.setdefault(row["task_name"], {})[STATE_LABELS.get(row["state"], row["state"].lower())] = row["count"]
    outbox = dict(
        Job.objects.exclude(publish_state=Job.Publish.PUBLISHED)
        .values_list("publish_state")
        .annotate(n=Count("id"))
        .values_list("publish_state", "n")
    )
    return {"since": since, "by_task": by_task, "queues": queue_lengths(), "outbox": outbox}


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting in each named queue (None when the broker cannot be asked)."""
    from django.conf import settings

    from lms.celery import app

    lengths: dict[str, int | None] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            channel = conn.default_channel
            for name in settings.CELERY_TASK_QUEUES_NAMES:
                try:
                    lengths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except Exception:  # a queue nobody declared yet holds nothing
                    lengths[name] = 0
    except Exception:  # broker down: say so rather than fail the admin page
        return dict.fromkeys(settings.CELERY_TASK_QUEUES_NAMES)
    return lengths
