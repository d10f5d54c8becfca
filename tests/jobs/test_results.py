"""The result backend (jobs.results): the same TaskResult rows as django-celery-results' own backend, one
statement per state."""

import uuid

import pytest
from celery import states
from celery.app.task import Context
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_results.backends.database import DatabaseBackend
from django_celery_results.models import TaskResult

from jobs.results import ResultBackend
from lms.celery import app

pytestmark = pytest.mark.django_db

COMPARED = (
    "status",
    "result",
    "traceback",
    "meta",
    "content_type",
    "content_encoding",
    "periodic_task_name",
    "task_name",
    "task_args",
    "task_kwargs",
    "worker",
)


def _request(task_id: str) -> Context:
    return Context(
        id=task_id,
        task="enrollments.sync_progress",
        args=[],
        kwargs={"enrollment_id": 7},
        argsrepr="()",
        kwargsrepr="{'enrollment_id': 7}",
        hostname="worker@test",
        children=[],
    )


def _run(backend, task_id: str, *final) -> TaskResult:
    request = _request(task_id)
    backend.store_result(task_id, {"pid": 1, "hostname": "worker@test"}, states.STARTED, request=request)
    backend.store_result(task_id, *final, request=request)
    return TaskResult.objects.get(task_id=task_id)


@pytest.mark.parametrize(
    "final",
    [
        ({"enrollment_id": 7, "progress_percent": 40}, states.SUCCESS),
        (ValueError("boom"), states.FAILURE, "Traceback (most recent call last):\n  ValueError: boom"),
        (KeyError("retry me"), states.RETRY, "Traceback: KeyError"),
    ],
    ids=["success", "failure", "retry"],
)
def test_rows_match_django_celery_results_own_backend(final):
    ours = _run(ResultBackend(app=app), str(uuid.uuid4()), *final)
    theirs = _run(DatabaseBackend(app=app), str(uuid.uuid4()), *final)

    assert {f: getattr(ours, f) for f in COMPARED} == {f: getattr(theirs, f) for f in COMPARED}
    assert ours.status == final[1]
    assert ours.date_started is not None and ours.date_done >= ours.date_started
    assert theirs.date_started is not None


def test_each_state_is_one_statement_and_a_later_state_keeps_the_first_dates():
    backend = ResultBackend(app=app)
    task_id = str(uuid.uuid4())
    request = _request(task_id)

    with CaptureQueriesContext(connection) as started:
        backend.store_result(task_id, None, states.STARTED, request=request)
    first = TaskResult.objects.get(task_id=task_id)
    with CaptureQueriesContext(connection) as done:
        backend.store_result(task_id, {"ok": True}, states.SUCCESS, request=request)
    last = TaskResult.objects.get(task_id=task_id)

    assert len(started.captured_queries) == 1 and len(done.captured_queries) == 1
    assert "ON CONFLICT" in done.captured_queries[0]["sql"]
    assert TaskResult.objects.filter(task_id=task_id).count() == 1
    assert (last.date_created, last.date_started) == (first.date_created, first.date_started)
    assert last.date_done >= first.date_done
    assert (last.status, backend.get_result(task_id)) == (states.SUCCESS, {"ok": True})


def test_a_task_that_does_not_track_started_gets_its_row_from_the_final_state():
    backend = ResultBackend(app=app)
    task_id = str(uuid.uuid4())

    backend.store_result(task_id, 3, states.SUCCESS, request=_request(task_id))

    row = TaskResult.objects.get(task_id=task_id)
    assert (row.status, row.date_started, row.task_name) == (states.SUCCESS, None, "enrollments.sync_progress")
    assert backend.get_task_meta(task_id)["result"] == 3
