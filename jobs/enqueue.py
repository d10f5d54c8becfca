"""The one seam through which domain work is queued.

Services and signal receivers call `enqueue(task, some_id=...)` and nothing else. It writes a Job row in
the caller's transaction (the outbox) and publishes to the broker once that transaction commits: a
rolled-back change queues nothing, a worker never reads a row that is not there yet, and a publish that
fails (broker down, process killed after commit) is retried by the outbox relay from the row. The relay
also confirms, in bulk and off the request, that what the request published was delivered (jobs.relay).
"""

import json
import logging
from datetime import timedelta

from celery import Task
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from jobs import tracing
from jobs.about import about_kwargs
from jobs.context import trigger_label

logger = logging.getLogger(__name__)


# The after-commit publish normally succeeds at once; the relay leaves a row alone this long first.
PUBLISH_GRACE = timedelta(seconds=5)


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
        for key, label in about_kwargs().items():
            if isinstance(kwargs.get(key), int):
                try:
                    model, pk = apps.get_model(label), kwargs[key]
                except LookupError:  # a model its app has not built yet
                    continue
                break
        else:
            return None, None
    return ContentType.objects.get_for_model(model), pk


def queue_for(task_name: str) -> str:
    """The queue a task declares (`@shared_task(queue=...)` in its app), else the default queue."""
    from celery import current_app as app

    task = app.tasks.get(task_name)
    if task is not None and getattr(task, "queue", None):
        return task.queue
    return app.amqp.router.route({}, task_name)["queue"].name


def send(job, producer=None) -> None:
    """Send one job's message to the broker under the job's task id; raises whatever the broker raised.
    `producer`: a kombu producer to reuse (the relay sends many on one connection)."""
    from celery import current_app as app

    eta = job.not_before if job.not_before and job.not_before > timezone.now() else None
    # Under the job's stored trace context: the message carries it, whoever publishes (request, relay).
    with tracing.attached(job.trace_context):
        app.send_task(
            job.task_name,
            kwargs=job.kwargs,
            task_id=job.task_id,
            queue=job.queue,
            eta=eta,
            producer=producer,
            retry=True,
            # Bounded so a dead broker costs a request about a second, never a hang: the relay retries.
            retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2},
        )


def deliveries_provable() -> bool:
    """Whether the relay can tell later, by searching the broker, that a job's message was delivered (Redis
    can be searched: jobs.selectors.broker_task_ids). Then the request only publishes; otherwise it also
    marks the row published at once, or the relay would publish every job a second time."""
    from celery import current_app as app

    return app.conf.broker_url.split(":", 1)[0] in ("redis", "rediss")


def publish(job, *, confirm: bool = True) -> bool:
    """Send one job's message to the broker under the job's task id; True when the broker took it.

    With `confirm`, a sent job is marked published at once; without, it stays pending until the relay
    confirms it (jobs.relay). A failure is recorded either way: the row waits for the relay, backing off."""
    from jobs.models import Job

    try:
        send(job)
    except Exception as exc:  # any broker/transport error: the row stays pending for the relay
        record_publish_failure(job, exc)
        return False
    if not confirm:
        return True
    Job.objects.filter(pk=job.pk, publish_state=Job.Publish.PENDING).update(
        publish_state=Job.Publish.PUBLISHED, published_at=timezone.now(), next_publish_at=None
    )
    return True


def record_publish_failure(job, exc: Exception) -> int:
    """Count a failed publish on the row and set when the relay tries again; returns the attempts so far."""
    from jobs.models import Job

    attempts = job.publish_attempts + 1
    Job.objects.filter(pk=job.pk, publish_state=Job.Publish.PENDING).update(
        publish_attempts=attempts,
        next_publish_at=timezone.now() + relay_backoff(attempts),
        last_publish_error=f"{type(exc).__name__}: {exc}"[:1000],
    )
    logger.warning("publishing %s %s failed, the outbox relay will retry: %s", job.task_name, job.task_id, exc)
    return attempts


def relay_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2**attempts))


def enqueue(task: Task, /, *, countdown: int | None = None, about=None, retry_of=None, **kwargs):
    """Queue `task(**kwargs)`: a Job row now, the broker message once the current transaction commits.

    `countdown` (seconds) is for short debounces only: anything due later than the broker visibility
    timeout belongs in the database, picked up by a periodic sweeper. `about` names the object the job
    concerns when the keyword arguments do not. Returns the Job.
    """
    from jobs.models import Job

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
        # Where the relay can prove delivery later, the request writes nothing after its commit (P1).
        publish(job, confirm=not deliveries_provable())

    transaction.on_commit(publish_after_commit, robust=True)
    return job
