"""Pruning old task results and job rows, in small batches.

A year of jobs is millions of rows. One `DELETE` of them all would hold its locks, and its share of the
disk, for minutes while learners complete lessons; here each batch of PRUNE_BATCH rows is its own short
transaction, found through an index in the order that index keeps (so a batch never sorts the backlog),
and the run stops at a time budget, leaving the rest to the next run (the nightly task queues itself
again while rows remain). docs/performance.md (P12) measures it against lesson completions.
"""

import time
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs.models import Job

PRUNE_BATCH = 2000


def results_prune(*, now=None, budget_seconds: float | None = None, batch: int = PRUNE_BATCH) -> dict:
    """Delete old task results and job rows: successes after a week, failures after a month (settings).

    Returns how many of each were deleted, and `more`: True when the budget ran out with rows left.
    Results go first: a job is judged lost (jobs.services.jobs_reconcile_lost) only within its first hour.
    """
    now = now or timezone.now()
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    keep_success = timedelta(days=settings.RESULTS_KEEP_SUCCESS_DAYS)
    keep_failure = timedelta(days=settings.RESULTS_KEEP_FAILURE_DAYS)
    expired = {
        "succeeded": TaskResult.objects.filter(status="SUCCESS", date_done__lt=now - keep_success),
        "failed": TaskResult.objects.exclude(status__in=["SUCCESS", "PENDING", "STARTED"]).filter(
            date_done__lt=now - keep_failure
        ),
        "jobs": Job.objects.filter(created_at__lt=now - max(keep_success, keep_failure)).exclude(
            publish_state=Job.Publish.DEAD
        ),
    }
    order = {"succeeded": "date_done", "failed": "date_done", "jobs": "created_at"}
    pruned: dict = {"more": False}
    for name, queryset in expired.items():
        pruned[name], left = _delete_in_batches(queryset.order_by(order[name]), batch=batch, deadline=deadline)
        if left:
            pruned["more"] = True
            break
    return pruned


def _delete_in_batches(queryset: QuerySet, *, batch: int, deadline: float | None) -> tuple[int, bool]:
    """Delete `queryset` `batch` rows at a time, each batch in its own transaction (autocommit); returns
    (rows deleted, whether rows are left because the deadline passed)."""
    deleted = 0
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            return deleted, queryset.exists()
        ids = list(queryset.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted, False
        # Through the ORM, so a job some retry points at has that link cleared (SET_NULL) in the same batch.
        queryset.model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            return deleted, False
