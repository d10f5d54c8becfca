"""Health checks: each one reads a figure and grades it ok, warning or error against thresholds in settings.

The operations page shows them, /healthz/detail answers them as JSON, and the alerts (jobs.alerts) open
an incident when one turns bad. docs/operations.md explains each check and what to do about it. Thresholds
follow Moodle's task checks where there is a counterpart (the oldest queued task: a warning at 10 minutes,
an error at 4 hours).
"""

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Min
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs.models import Heartbeat, Job
from jobs.selectors import outbox_unsettled
from jobs.worker import SENT_AT_HEADER

logger = logging.getLogger(__name__)

OK, WARNING, ERROR = "ok", "warning", "error"
SEVERITY = {OK: 0, WARNING: 1, ERROR: 2}


@dataclass
class Check:
    name: str
    status: str
    figure: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def grade(value: float, *, warning: float, error: float) -> str:
    return ERROR if value >= error else WARNING if value >= warning else OK


def worst(checks: list[Check]) -> str:
    return max((c.status for c in checks), key=SEVERITY.__getitem__, default=OK)


def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


# --- The queues ------------------------------------------------------------------------------------------


NOT_REDIS = "not redis"


def oldest_message_ages() -> dict[str, float | None] | str | None:
    """Seconds the oldest message of each queue has waited (None: the queue is empty); None when the broker
    does not answer, NOT_REDIS on another broker (its queues cannot be peeked without taking a message).
    Redis queues are lists pushed on the left and popped on the right, so the oldest message is at index
    -1: one LINDEX per queue, whatever the queue's length."""
    from celery import current_app as app

    ages: dict[str, float | None] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            if conn.transport.driver_type != "redis":
                return NOT_REDIS
            client = conn.default_channel.client
            for name in settings.CELERY_TASK_QUEUES_NAMES:
                raw = client.lindex(name, -1)
                ages[name] = None if raw is None else _message_age(raw)
    except Exception:  # broker down: the queue checks say so
        return None
    return ages


def _message_age(raw: bytes) -> float:
    try:
        message = json.loads(raw)
        headers = message.get("headers") or {}
        sent_at = headers.get(SENT_AT_HEADER)  # stamped by lms.celery: Celery's own message carries no time
        if sent_at is None:  # published before the header existed: the job's publish time, if it has one
            job = Job.objects.filter(task_id=headers.get("id", "")).values_list("published_at", flat=True).first()
            return (timezone.now() - job).total_seconds() if job else 0.0
        return max(0.0, time.time() - float(sent_at))
    except (ValueError, TypeError, AttributeError):
        return 0.0


def check_queues() -> list[Check]:
    ages = oldest_message_ages()
    if ages is None:
        return [Check("queues", ERROR, "broker unreachable", "The broker did not answer: every job waits.")]
    if ages == NOT_REDIS:
        return [Check("queues", OK, "not measured", "Queue ages are read on a Redis broker only.")]
    checks = []
    for name, age in ages.items():
        status = grade(
            age or 0,
            warning=settings.HEALTH_QUEUE_AGE_WARNING_SECONDS,
            error=settings.HEALTH_QUEUE_AGE_ERROR_SECONDS,
        )
        figure = "empty" if age is None else f"oldest waiting {_age(age)}"
        message = "Workers keep up." if status == OK else f"Messages in {name} wait too long: too few workers on it?"
        checks.append(Check(f"queue:{name}", status, figure, message))
    return checks


# --- Jobs ----------------------------------------------------------------------------------------------------


def check_outbox() -> Check:
    # MIN over an expression, not the bare column: PostgreSQL would otherwise walk the created_at index from
    # the oldest of millions of jobs until it met an unsettled one (0.8 s at 5 million, docs/performance.md);
    # this way it reads the few unsettled ones from their partial index.
    created = ExpressionWrapper(F("created_at") + timedelta(0), output_field=DateTimeField())
    oldest = outbox_unsettled().filter(publish_state=Job.Publish.PENDING).aggregate(oldest=Min(created))["oldest"]
    if oldest is None:
        return Check("outbox", OK, "none pending", "Every job reached the broker.")
    age = (timezone.now() - oldest).total_seconds()
    status = grade(
        age, warning=settings.HEALTH_OUTBOX_AGE_WARNING_SECONDS, error=settings.HEALTH_OUTBOX_AGE_ERROR_SECONDS
    )
    return Check(
        "outbox", status, f"oldest pending {_age(age)}", "Jobs not yet on the broker: is it up, and the relay?"
    )


def check_dead_letters() -> Check:
    dead = Job.objects.filter(publish_state=Job.Publish.DEAD).count()
    if not dead:
        return Check("dead_letters", OK, "0", "No job gave up publishing.")
    return Check("dead_letters", ERROR, str(dead), "Jobs that never reached the broker: requeue them in the admin.")


def check_overrunning_jobs(*, now=None) -> Check:
    from jobs.services import task_hard_limit

    now = now or timezone.now()
    overrunning = []
    for result in TaskResult.objects.filter(status="STARTED").only("task_name", "date_created", "date_started"):
        began = getattr(result, "date_started", None) or result.date_created
        if began < now - timedelta(seconds=task_hard_limit(result.task_name or "")):
            overrunning.append(result.task_name or "?")
    if not overrunning:
        return Check("overrunning_jobs", OK, "0", "No job runs past its hard time limit.")
    return Check(
        "overrunning_jobs",
        WARNING,
        str(len(overrunning)),
        f"Still running past their hard time limit (worker killed?): {', '.join(sorted(set(overrunning)))}.",
    )


def check_failed_jobs(*, now=None) -> Check:
    since = (now or timezone.now()) - timedelta(hours=1)
    by_task = dict(
        TaskResult.objects.filter(status="FAILURE", date_done__gte=since)
        .values_list("task_name")
        .annotate(n=Count("id"))
        .values_list("task_name", "n")
    )
    total = sum(by_task.values())
    status = grade(total, warning=settings.HEALTH_FAILED_JOBS_WARNING, error=settings.HEALTH_FAILED_JOBS_ERROR)
    detail = ", ".join(f"{name or '?'}: {n}" for name, n in sorted(by_task.items()))
    return Check("failed_jobs", status, f"{total} in the last hour", detail or "No job failed in the last hour.")


def check_webhook_endpoints() -> Check:
    endpoint = apps.get_model("notifications", "WebhookEndpoint")
    disabled = list(
        endpoint.objects.filter(is_active=False, disabled_at__isnull=False).values_list("url", flat=True)[:5]
    )
    if not disabled:
        return Check("webhook_endpoints", OK, "0 disabled", "Every endpoint receives its deliveries.")
    count = endpoint.objects.filter(is_active=False, disabled_at__isnull=False).count()
    return Check(
        "webhook_endpoints", WARNING, f"{count} disabled", f"Disabled after repeated failures: {', '.join(disabled)}."
    )


# --- Heartbeats ----------------------------------------------------------------------------------------------


def heartbeat_state(age: float) -> str:
    """alive, late (warning) or gone (error), from the seconds since a process was last seen."""
    status = grade(
        age, warning=settings.HEALTH_HEARTBEAT_WARNING_SECONDS, error=settings.HEALTH_HEARTBEAT_ERROR_SECONDS
    )
    return {OK: "alive", WARNING: "late", ERROR: "gone"}[status]


def heartbeats_with_age(*, now=None) -> list[dict]:
    """Every process's heartbeat with its age in seconds and its state, for the page and the endpoint."""
    now = now or timezone.now()
    rows = []
    for beat in Heartbeat.objects.order_by("kind", "name"):
        age = max(0.0, (now - beat.last_seen).total_seconds())
        rows.append(
            {
                "kind": beat.kind,
                "name": beat.name,
                "role": beat.role,
                "last_seen": beat.last_seen.isoformat(),
                "age_seconds": round(age, 1),
                "state": heartbeat_state(age),
            }
        )
    return rows


_STATE_STATUS = {"alive": OK, "late": WARNING, "gone": ERROR}


def check_beat(beats: list[dict]) -> Check:
    active = [b for b in beats if b["kind"] == "beat" and b["role"] == "active"]
    standby = sum(1 for b in beats if b["kind"] == "beat" and b["role"] == "standby" and b["state"] == "alive")
    if not active:
        return Check("beat", ERROR, "no beat", "No beat is running: no periodic task runs. Start one.")
    newest = min(active, key=lambda b: b["age_seconds"])
    status = _STATE_STATUS[newest["state"]]
    figure = f"last seen {_age(newest['age_seconds'])} ago" + (f", {standby} standby" if standby else "")
    message = "Periodic tasks are being sent." if status == OK else "The active beat stopped reporting: is it down?"
    return Check("beat", status, figure, message)


def check_workers(beats: list[dict]) -> Check:
    workers = [b for b in beats if b["kind"] == "worker"]
    if not workers:
        return Check("workers", ERROR, "no worker", "No worker is running: no job runs. Start one.")
    gone = [b for b in workers if b["state"] != "alive"]
    alive = len(workers) - len(gone)
    status = max((_STATE_STATUS[b["state"]] for b in workers), key=SEVERITY.__getitem__)
    if alive == 0:
        status = ERROR
    figure = f"{alive} alive" + (f", {len(gone)} not seen" if gone else "")
    if not gone:
        return Check("workers", status, figure, "Every worker reports.")
    names = ", ".join(f"{b['name']} ({b['state']}, last seen {_age(b['age_seconds'])} ago)" for b in gone)
    return Check("workers", status, figure, f"Not reporting: {names}.")


def check_relay(beats: list[dict]) -> Check:
    relays = [b for b in beats if b["kind"] == "relay" and b["state"] == "alive"]
    if relays:
        return Check("relay", OK, f"{len(relays)} alive", "The outbox relay publishes what web could not.")
    return Check(
        "relay", WARNING, "no relay", "No outbox relay runs; beat's relay task still does, every 10 s. Start one."
    )


def health_checks() -> list[Check]:
    """Every check, in the order the page shows them. A check that cannot be evaluated is an error."""
    checks: list[Check] = []
    beats = heartbeats_with_age()
    for name, check in (
        ("beat", lambda: check_beat(beats)),
        ("workers", lambda: check_workers(beats)),
        ("relay", lambda: check_relay(beats)),
        ("queues", check_queues),
        ("outbox", check_outbox),
        ("dead_letters", check_dead_letters),
        ("overrunning_jobs", check_overrunning_jobs),
        ("failed_jobs", check_failed_jobs),
        ("webhook_endpoints", check_webhook_endpoints),
    ):
        try:
            result = check()
        except Exception as exc:
            logger.exception("health check %s failed", name)
            result = Check(name, ERROR, "not evaluated", f"The check itself failed: {type(exc).__name__}.")
        checks.extend(result if isinstance(result, list) else [result])
    return checks
