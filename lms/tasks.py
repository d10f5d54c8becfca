"""The one seam through which domain work is queued, and the project-level (operations) tasks.

Services and signal receivers call `enqueue(task, some_id=...)` and nothing else. It writes a Job row in
the caller's transaction (the outbox) and publishes to the broker once that transaction commits: a
rolled-back change queues nothing, a worker never reads a row that is not there yet, and a publish that
fails (broker down, process killed after commit) is retried by the outbox relay from the row.
"""

import json
import logging
import socket
from datetime import timedelta

from celery import Task, shared_task
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, models, transaction
from django.utils import timezone

from lms import tracing
from lms.context import trigger_label

logger = logging.getLogger(__name__)

# Task options for work that only touches the database: a lost connection or a deadlock is worth a few
# quick retries with backoff (the task is idempotent, and its transaction was rolled back).
RETRY_ON_DB_ERRORS = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 5,
}

# The after-commit publish normally succeeds at once; the relay leaves a row alone this long first.
PUBLISH_GRACE = timedelta(seconds=5)
# Keyword arguments that name the object a job is about, for the admin's "jobs of this object".
ABOUT_KWARGS = {
    "enrollment_id": "enrollments.Enrollment",
    "certificate_id": "certificates.Certificate",
    "delivery_id": "notifications.WebhookDelivery",
    "endpoint_id": "notifications.WebhookEndpoint",
    "notification_id": "notifications.Notification",
    "import_id": "enrollments.ImportJob",
    "course_id": "courses.Course",
    "user_id": "accounts.User",
}


class PayloadError(TypeError):
    """A task was handed something other than small JSON values (ids, slugs, flags)."""


def _check_payload(kwargs: dict) -> None:
    # Tasks take ids, never objects: an object would be stale by the time a worker loads it.
    for key, value in kwargs.items():
        if not isinstance(value, (int, str, bool, float, type(None), list)):
            raise PayloadError(f"{key}={value!r}: pass ids and plain values to tasks, not {type(value).__name__}")
    json.dumps(kwargs)


def _about(about, kwargs: dict) -> tuple[ContentType | None, int | None]:
    if isinstance(about, models.Model):
        model, pk = type(about), about.pk
    elif isinstance(about, tuple):
        label, pk = about
        model = apps.get_model(label)
    else:
        for key, label in ABOUT_KWARGS.items():
            if isinstance(kwargs.get(key), int):
                try:
                    model, pk = apps.get_model(label), kwargs[key]
                except LookupError:  # an app not built yet (imports)
                    continue
                break
        else:
            return None, None
    return ContentType.objects.get_for_model(model), pk


def queue_for(task_name: str) -> str:
    from lms.celery import app

    return app.amqp.router.route({}, task_name)["queue"].name


def send(job) -> None:
    """Send one job's message to the broker under the job's task id; raises whatever the broker raised."""
    from lms.celery import app

    eta = job.not_before if job.not_before and job.not_before > timezone.now() else None
    # Under the job's stored trace context: the message carries it, whoever publishes (request, relay).
    with tracing.attached(job.trace_context):
        app.send_task(
            job.task_name,
            kwargs=job.kwargs,
            task_id=job.task_id,
            queue=job.queue,
            eta=eta,
            retry=True,
            # Bounded so a dead broker costs a request about a second, never a hang: the relay retries.
            retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2},
        )


def publish(job) -> bool:
    """Send one job's message to the broker under the job's task id; True when the broker took it."""
    from lms.models import Job

    try:
        send(job)
    except Exception as exc:  # any broker/transport error: the row stays pending for the relay
        attempts = job.publish_attempts + 1
        Job.objects.filter(pk=job.pk, publish_state=Job.Publish.PENDING).update(
            publish_attempts=attempts,
            next_publish_at=timezone.now() + relay_backoff(attempts),
            last_publish_error=f"{type(exc).__name__}: {exc}"[:1000],
        )
        logger.warning("publishing %s %s failed, the outbox relay will retry: %s", job.task_name, job.task_id, exc)
        return False
    # One autocommit UPDATE. (Skipping its disk flush with SET LOCAL synchronous_commit took a transaction
    # and three more round trips, which cost the request more than the flush: docs/performance.md, P1.)
    Job.objects.filter(pk=job.pk, publish_state=Job.Publish.PENDING).update(
        publish_state=Job.Publish.PUBLISHED, published_at=timezone.now(), next_publish_at=None
    )
    return True


def relay_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2**attempts))


def enqueue(task: Task, /, *, countdown: int | None = None, about=None, retry_of=None, **kwargs):
    """Queue `task(**kwargs)`: a Job row now, the broker message once the current transaction commits.

    `countdown` (seconds) is for short debounces only: anything due later than the broker visibility
    timeout belongs in the database, picked up by a periodic sweeper. `about` names the object the job
    concerns when the keyword arguments do not. Returns the Job.
    """
    from lms.models import Job

    _check_payload(kwargs)
    content_type, object_id = _about(about, kwargs)
    now = timezone.now()
    job = Job.objects.create(
        task_name=task.name,
        kwargs=kwargs,
        queue=queue_for(task.name),
        content_type=content_type,
        object_id=object_id,
        triggered_by=trigger_label(),
        retry_of=retry_of,
        # A retry joins the trace of the job it retries; otherwise the trace of the code queueing it.
        trace_context=(retry_of.trace_context if retry_of is not None else None) or tracing.current_traceparent(),
        not_before=now + timedelta(seconds=countdown) if countdown else None,
        next_publish_at=now + PUBLISH_GRACE,
    )

    def publish_after_commit() -> None:  # a named function: Django logs its __qualname__ if it raises
        publish(job)

    transaction.on_commit(publish_after_commit, robust=True)
    return job


@shared_task(name="lms.ping", soft_time_limit=5, time_limit=10)
def ping_task(note: str = "") -> dict:
    """A no-op round trip for health checks and smoke tests: says which worker answered."""
    return {"pong": note, "worker": socket.gethostname()}


# The frequent housekeeping tasks keep no results: thousands of "relayed 0" rows a day would bury the
# results staff need. Their failures still reach the logs and Sentry.
@shared_task(name="lms.relay_outbox", soft_time_limit=50, time_limit=60, ignore_result=True)
def outbox_relay_task() -> int:
    """Beat's safety net beside the relay process: publish jobs the after-commit publish missed."""
    from lms.services import outbox_relay

    return outbox_relay()


@shared_task(name="lms.sweep_stuck_jobs", soft_time_limit=50, time_limit=60, ignore_result=True)
def jobs_sweep_stuck_task() -> int:
    from lms.services import jobs_sweep_stuck

    return jobs_sweep_stuck()


@shared_task(name="lms.reconcile_lost_jobs", soft_time_limit=50, time_limit=60, ignore_result=True)
def jobs_reconcile_lost_task() -> int:
    """Periodic: publish again the jobs whose message the broker lost (no result, in no queue)."""
    from lms.services import jobs_reconcile_lost

    return jobs_reconcile_lost()


@shared_task(name="lms.prune_results", soft_time_limit=150, time_limit=180)
def results_prune_task() -> dict:
    from lms.heartbeats import heartbeats_prune
    from lms.idempotency import idempotency_records_prune
    from lms.services import results_prune

    pruned = results_prune()
    pruned["idempotency_keys"] = idempotency_records_prune()
    pruned["heartbeats"] = heartbeats_prune()
    return pruned


@shared_task(name="lms.health_alerts", soft_time_limit=40, time_limit=50, ignore_result=True)
def health_alerts_task() -> dict:
    """Periodic: run the health checks and alert staff when one turns bad or recovers (lms.alerts)."""
    from lms.alerts import health_alerts_run

    return health_alerts_run()
