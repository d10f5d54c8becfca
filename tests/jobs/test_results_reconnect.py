"""The result backend when the database blinks: a killed connection is replaced and the state stored; a
database that stays down sends the task's message back to the queue instead of losing it."""

import uuid

import pytest
from celery import states
from celery.app.task import Context
from django_celery_results.models import TaskResult

from jobs.results import ResultBackend, ResultNotStored
from lms.celery import app
from tests.conftest import is_postgres
from tests.faults.database import database_down, my_backend_pid, terminate_backends

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend(transactional_db):
    if not is_postgres():
        pytest.skip("needs PostgreSQL: pg_terminate_backend and ALLOW_CONNECTIONS inject the faults")
    return ResultBackend(app=app)


def _store(backend, task_id: str, status: str) -> None:
    request = Context(id=task_id, task="lms.ping", args=[], kwargs={}, hostname="worker@test", children=[])
    backend.store_result(task_id, {"pid": 1}, status, request=request)


@pytest.mark.parametrize("status", [states.STARTED, states.SUCCESS])
def test_state_is_stored_although_the_idle_connection_was_killed(backend, status):
    task_id = str(uuid.uuid4())
    _store(backend, task_id, states.PENDING)  # the connection is open and idle
    mine = my_backend_pid()
    terminate_backends()  # ours included

    _store(backend, task_id, status)

    assert TaskResult.objects.get(task_id=task_id).status == status
    assert my_backend_pid() != mine


def test_database_down_requeues_the_message_instead_of_failing_it(backend, settings):
    task_id = str(uuid.uuid4())
    _store(backend, task_id, states.PENDING)
    with database_down(), pytest.raises(ResultNotStored) as raised:
        _store(backend, task_id, states.STARTED)
    assert raised.value.requeue is True
    # The database is back: the next try stores the state on a new connection.
    _store(backend, task_id, states.STARTED)
    assert TaskResult.objects.get(task_id=task_id).status == states.STARTED


def test_a_state_that_can_never_be_stored_stops_requeueing_after_a_bounded_number_of_tries(backend, monkeypatch):
    from django.db import OperationalError

    import jobs.results

    monkeypatch.setattr(jobs.results, "MAX_REQUEUES", 2)
    monkeypatch.setattr(jobs.results, "requeue_pause", lambda attempts: 0)
    task_id = str(uuid.uuid4())
    _store(backend, task_id, states.PENDING)
    with database_down():
        outcomes = []
        for _ in range(3):
            with pytest.raises((ResultNotStored, OperationalError)) as raised:
                _store(backend, task_id, states.STARTED)
            outcomes.append(type(raised.value).__name__)
    assert outcomes == ["ResultNotStored", "ResultNotStored", "OperationalError"]


def test_the_pause_before_a_requeue_doubles_up_to_a_cap():
    from jobs.results import REQUEUE_PAUSE_MAX_SECONDS, requeue_pause

    assert [requeue_pause(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert requeue_pause(50) == REQUEUE_PAUSE_MAX_SECONDS
