"""The one seam through which domain work is queued, and the project-level tasks.

Services and signal receivers call `enqueue(task, some_id=...)` and nothing else: it sends only after the
surrounding transaction commits, so a rolled-back change queues nothing and a worker never reads a row
that is not there yet.
"""

import json
import logging
import socket
from functools import partial

from celery import Task, shared_task
from django.db import transaction

logger = logging.getLogger(__name__)


class PayloadError(TypeError):
    """A task was handed something other than small JSON values (ids, slugs, flags)."""


def _check_payload(kwargs: dict) -> None:
    # Tasks take ids, never objects: an object would be stale by the time a worker loads it.
    for key, value in kwargs.items():
        if not isinstance(value, (int, str, bool, float, type(None), list)):
            raise PayloadError(f"{key}={value!r}: pass ids and plain values to tasks, not {type(value).__name__}")
    json.dumps(kwargs)


def _publish(task: Task, kwargs: dict, countdown: int | None) -> None:
    result = task.apply_async(kwargs=kwargs, countdown=countdown)
    logger.debug("enqueued %s %s as %s", task.name, kwargs, result.id)


def enqueue(task: Task, /, *, countdown: int | None = None, **kwargs) -> None:
    """Queue `task(**kwargs)` once the current transaction commits (at once when there is none).

    `countdown` (seconds) is for short debounces only: anything due later than the broker visibility
    timeout belongs in the database, picked up by a periodic sweeper. A broker failure at publish time is
    logged, never raised into the user's request.
    """
    _check_payload(kwargs)
    transaction.on_commit(partial(_publish, task, kwargs, countdown), robust=True)


@shared_task(name="lms.ping", soft_time_limit=5, time_limit=10)
def ping_task(note: str = "") -> dict:
    """A no-op round trip for health checks and smoke tests: says which worker answered."""
    return {"pong": note, "worker": socket.gethostname()}
