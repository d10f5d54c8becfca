"""Reads for operations: jobs joined with their Celery results, and the last day's summary."""

import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_celery_results.models import TaskResult

from core.permissions import held
from jobs.models import Job

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


def outbox_unsettled() -> QuerySet[Job]:
    """Jobs not known to be on the broker that should be by now: dead letters, and pending jobs whose
    publish failed or whose confirmation is overdue. A job the request sent a moment ago, waiting for the
    relay to confirm it (jobs.relay), is not one of them."""
    now = timezone.now()
    return Job.objects.filter(
        Q(publish_state=Job.Publish.DEAD)
        | Q(publish_state=Job.Publish.PENDING)
        & (Q(publish_attempts__gt=0) | Q(next_publish_at__lte=now) | Q(next_publish_at__isnull=True))
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
    by_task: dict[str, dict[str, int]] = {}
    for task_name, state, count in _counts_by_task_and_state(since):
        by_task.setdefault(task_name, {})[STATE_LABELS.get(state, state.lower())] = count
    outbox = dict(
        outbox_unsettled().values_list("publish_state").annotate(n=Count("id")).values_list("publish_state", "n")
    )
    return {
        "since": since,
        "by_task": by_task,
        "queues": queue_lengths(),
        "outbox": outbox,
        **jobs_reconciled_summary(since=since),
    }


# A task's result is stored after its job was created, so a result of a job created since `since` was
# created since then too; the margin covers the web's and the workers' clocks disagreeing.
CLOCK_MARGIN = timedelta(minutes=5)


def _counts_by_task_and_state(since) -> list[tuple[str, str, int]]:
    """Jobs created since `since`, counted by task and state, as one join: both sides are read through
    their time index (the day's jobs, the day's results) and hash-joined, where the `state` annotation's
    subquery would probe the results once per job (docs/performance.md, P11)."""
    jobs, results = Job._meta.db_table, TaskResult._meta.db_table
    sql = (
        "SELECT j.task_name, coalesce(r.status, 'QUEUED') AS state, count(*) "  # noqa: S608 - model tables; values bound
        f"FROM {jobs} j LEFT JOIN {results} r ON r.task_id = j.task_id AND r.date_created >= %s "
        "WHERE j.created_at >= %s GROUP BY 1, 2 ORDER BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since - CLOCK_MARGIN, since])
        return cursor.fetchall()


def jobs_reconciled_summary(*, since) -> dict:
    """Jobs the reconciliation sweep published again since `since` (the broker had lost their message):
    how many, how many it gave up on with still no result (lost), and the latest few."""
    from django.conf import settings

    reconciled = job_list_with_state().filter(reconciled_count__gt=0, reconciled_at__gte=since)
    lost = reconciled.filter(state="QUEUED", reconciled_count__gte=settings.JOBS_RECONCILE_MAX_TIMES)
    return {
        "reconciled_count": reconciled.count(),
        "lost_count": lost.count(),
        "reconciled": list(reconciled.order_by("-reconciled_at")[:20]),
    }


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting in each named queue (None when the broker cannot be asked)."""
    from celery import current_app as app
    from django.conf import settings

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


# A queue longer than this is not searched by the reconciliation sweep: so deep a backlog explains a job that
# has not started yet, and reading it all every minute would cost the broker more than it saves.
BROKER_SCAN_LIMIT = 10_000


@dataclass
class BrokerHeld:
    """Task ids of the messages waiting in some queues or held unacknowledged by workers (Redis)."""

    task_ids: set[str]
    unsearched_queues: set[str]  # too long to search: their jobs may be waiting


def broker_task_ids(*, queues: set[str]) -> BrokerHeld | None:
    """The task ids the broker still holds for `queues`: waiting (LRANGE of each queue's list) or delivered
    and not yet acknowledged (the `unacked` hash, which also keeps the messages a worker holds for their
    ETA). None when the broker is not Redis or cannot be asked: then nobody can tell a lost message.

    The queues are read before the unacked hash: a message moving from one to the other in between (a
    worker taking it) is seen in the second.
    """
    from celery import current_app as app

    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            if conn.transport.driver_type != "redis":
                return None
            channel = conn.default_channel
            client = channel.client
            held = BrokerHeld(task_ids=set(), unsearched_queues=set())
            for queue in sorted(queues):
                if client.llen(queue) > BROKER_SCAN_LIMIT:
                    held.unsearched_queues.add(queue)
                    continue
                for start in range(0, BROKER_SCAN_LIMIT, 1000):
                    chunk = client.lrange(queue, start, start + 999)
                    held.task_ids.update(_task_id(raw) for raw in chunk)
                    if len(chunk) < 1000:
                        break
            for _tag, raw in client.hscan_iter(channel.unacked_key):
                held.task_ids.add(_task_id(raw, unacked=True))
    except Exception:  # broker down or unreadable: decide nothing this round
        return None
    held.task_ids.discard("")
    return held


def _task_id(raw: bytes, *, unacked: bool = False) -> str:
    # Celery's message protocol 2 carries the task id in the headers; the unacked hash stores
    # [message, exchange, routing key].
    try:
        message = json.loads(raw)
        if unacked:
            message = message[0]
        return message.get("headers", {}).get("id") or message.get("properties", {}).get("correlation_id", "")
    except (ValueError, TypeError, AttributeError, IndexError):
        return ""


def operation_kinds_readable(*, user) -> list[str]:
    """The operation kinds `user` may see: those whose view or cancel permission they hold (who may cancel
    an operation may see what they would cancel)."""
    from jobs.operations import operation_kinds

    if not (user and user.is_authenticated and user.is_staff):
        return []
    kinds = operation_kinds().values()
    granted = held(user, {perm for kind in kinds for perm in (kind.permission, kind.cancel_permission)})
    return [kind.kind for kind in kinds if {kind.permission, kind.cancel_permission} & granted]


def operation_list_readable(*, user):
    """The operations `user` may see, or None when they may see no kind of operation at all (a 403, where
    an operation of a kind they may not see is a 404)."""
    from jobs.models import Operation

    kinds = operation_kinds_readable(user=user)
    if not kinds:
        return None
    return Operation.objects.filter(kind__in=kinds).select_related("started_by")
