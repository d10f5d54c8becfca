"""The result backend: django-celery-results' TaskResult rows, each state written in one statement.

django-celery-results stores a state with `get_or_create` and then `save()`: a SELECT, then BEGIN, INSERT
and COMMIT for a task's first state, and a SELECT plus a full UPDATE for the next, so a tracked task cost
its worker six database round trips besides its own work (profiled in docs/performance.md, P3). This
backend writes the same row, with the same columns and encodings, as one `INSERT ... ON CONFLICT (task_id)
DO UPDATE` in autocommit (PostgreSQL and SQLite alike): one round trip and one commit per state. Reading
results, the admin and the model are django-celery-results' own, unchanged.

The upsert keeps what a later state must not overwrite: the row's `date_created`, and `date_started` once
STARTED has set it.

A state that cannot be stored never loses its task (docs/reliability.md). A connection killed while idle,
the common case when the database restarts or an operator ends backends, is replaced and the statement
sent once more: the upsert is idempotent. If the fresh connection fails too, the message goes back to the
queue (`ResultNotStored`, a requeueing Reject, which Celery passes through its tracer to the worker) rather
than being acknowledged as failed, and the task runs again once the database answers. That rerun is
harmless because every task is idempotent. None of this costs the success path a round trip.
"""

import functools
import logging
import time

import django
from django.apps import apps

if not apps.ready and not apps.loading:
    # `celery call` and `celery result` load the result backend before anything has set Django up (the
    # worker and beat do it before importing task modules); the models below need the app registry.
    django.setup()

from celery import states
from celery.exceptions import Reject
from django.db import InterfaceError, OperationalError, connections, router
from django.utils import timezone
from django_celery_results.backends.database import DatabaseBackend
from django_celery_results.models import TaskResult

from jobs.db import drop_if_broken, prepared_cursor

logger = logging.getLogger(__name__)

# Before a message whose state could not be stored is requeued: while the database is down, a worker
# picks the same message up again at once, and this keeps that loop to about one try a second.
REQUEUE_PAUSE_SECONDS = 1.0
# A state that cannot be stored requeues its message with a pause that doubles up to this (seconds), and at
# most MAX_REQUEUES times per worker process: a database that refuses one row for good (disk full, a
# read-only database) must not run the task again every second for ever. After that the message is acked
# as failed and the reconciliation sweep (jobs.services.jobs_reconcile_lost) publishes the job again later.
REQUEUE_PAUSE_MAX_SECONDS = 30.0
MAX_REQUEUES = 20
_requeues: dict[str, int] = {}  # task id -> times requeued by this process


class ResultNotStored(Reject):
    """The database refused a task's state on a fresh connection too: requeue the message, do not ack it."""

    def __init__(self, reason=None, requeue=True):
        super().__init__(reason, requeue)


# Written by every state; task_id (unique) is the conflict target.
_COLUMNS = (
    "task_id",
    "status",
    "result",
    "traceback",
    "meta",
    "content_encoding",
    "content_type",
    "periodic_task_name",
    "task_name",
    "task_args",
    "task_kwargs",
    "worker",
    "date_done",
)
_INSERTED = (*_COLUMNS, "date_created", "date_started")


@functools.cache
def _upsert_sql(alias: str, *, started: bool) -> str:
    quote = connections[alias].ops.quote_name
    column = {name: quote(TaskResult._meta.get_field(name).column) for name in _INSERTED}
    updated = [name for name in _COLUMNS if name != "task_id"] + (["date_started"] if started else [])
    # Identifiers come from the model's metadata; every value is a parameter.
    insert = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - identifiers only, see above
        quote(TaskResult._meta.db_table), ", ".join(column[c] for c in _INSERTED), ", ".join(["%s"] * len(_INSERTED))
    )
    upsert = " ON CONFLICT ({}) DO UPDATE SET {}".format(
        column["task_id"], ", ".join(f"{column[c]} = EXCLUDED.{column[c]}" for c in updated)
    )
    return insert + upsert


class ResultBackend(DatabaseBackend):
    """`CELERY_RESULT_BACKEND = "jobs.results.ResultBackend"`: django-db, one statement per state."""

    def _store_result(self, task_id, result, status, traceback=None, request=None, using=None):
        content_type, content_encoding, encoded = self.encode_content(result)
        meta = {**self._get_meta_from_request(request), "children": self.current_task_children(request)}
        now = timezone.now()
        values = {
            **self._get_extended_properties(request, traceback),
            "task_id": task_id,
            "status": status,
            "result": encoded,
            "traceback": traceback,  # the extended properties carry it only when results are extended
            "meta": self.encode_content(meta)[2],
            "content_encoding": content_encoding,
            "content_type": content_type,
            "date_done": now,  # auto_now on the model: every state stamps it
            "date_created": now,  # kept by a later state (not in the update list)
            "date_started": now if status == states.STARTED else None,
        }
        alias = using or router.db_for_write(TaskResult)
        connection = connections[alias]
        drop_if_broken(connection)
        params = [TaskResult._meta.get_field(name).get_db_prep_value(values[name], connection) for name in _INSERTED]
        sql = _upsert_sql(alias, started=status == states.STARTED)
        try:
            _execute(connection, sql, params)
            if _requeues:
                _requeues.pop(task_id, None)
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block:  # an eager task inside a caller's transaction: not ours to redo
                raise
            _store_again(connection, sql, params, task_id=task_id, status=status, first_error=exc)
        return result


def _execute(connection, sql: str, params: list) -> None:
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)


def _store_again(connection, sql: str, params: list, *, task_id: str, status: str, first_error: Exception) -> None:
    """Send the upsert once more on a new connection; requeue the task's message if that fails too."""
    logger.warning("storing %s of task %s failed (%s): retrying on a new connection", status, task_id, first_error)
    connection.close()
    try:
        _execute(connection, sql, params)
    except (OperationalError, InterfaceError) as exc:
        connection.close()
        if status == states.RETRY:
            # The retry's message is already on the broker and will store its own state when it runs.
            logger.warning("RETRY of task %s not stored (%s): its retry message carries on", task_id, exc)
            return
        attempts = _requeues[task_id] = _requeues.get(task_id, 0) + 1
        if attempts > MAX_REQUEUES:
            del _requeues[task_id]
            logger.error(
                "%s of task %s not stored after %s requeues (%s): giving up", status, task_id, MAX_REQUEUES, exc
            )
            raise exc
        logger.warning("%s of task %s not stored (%s): its message goes back to the queue", status, task_id, exc)
        time.sleep(requeue_pause(attempts))
        raise ResultNotStored(f"{status} not stored: {exc}") from exc


def requeue_pause(attempts: int) -> float:
    return min(REQUEUE_PAUSE_MAX_SECONDS, REQUEUE_PAUSE_SECONDS * 2 ** min(attempts - 1, 16))
