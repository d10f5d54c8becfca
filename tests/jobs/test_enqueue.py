"""The enqueue seam against a real worker process, the real broker and the test database."""

import json
import time

import pytest
from django.db import transaction
from django_celery_results.models import TaskResult

from jobs.enqueue import PayloadError, enqueue
from jobs.tasks import ping_task
from tests.conftest import queue_length
from tests.utils import wait_for

pytestmark = pytest.mark.integration


def _results_for(note: str):
    return TaskResult.objects.filter(task_name="lms.ping", task_kwargs__contains=note)


def test_task_enqueued_in_a_transaction_runs_only_after_commit(worker):
    with transaction.atomic():
        enqueue(ping_task, note="after-commit")
        # Nothing has reached the broker while the transaction is open, so nothing can run.
        time.sleep(0.5)
        assert queue_length("default") == 0
        assert not _results_for("after-commit").exists()

    result = wait_for(
        lambda: _results_for("after-commit").filter(status="SUCCESS").first(), message="the ping TaskResult"
    )
    assert result.task_name == "lms.ping"
    assert "after-commit" in result.task_kwargs
    assert json.loads(result.result)["pong"] == "after-commit"
    assert result.worker and result.worker.startswith("test-")


def test_rolled_back_transaction_enqueues_nothing(worker):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        enqueue(ping_task, note="rolled-back")
        raise Boom

    # A ping sent afterwards proves the worker is consuming; the rolled-back one never arrives.
    enqueue(ping_task, note="sentinel")
    wait_for(lambda: _results_for("sentinel").filter(status="SUCCESS").exists(), message="the sentinel ping")
    assert queue_length("default") == 0
    assert not _results_for("rolled-back").exists()


def test_enqueue_refuses_objects_in_the_payload(db):
    from tests.jobs.factories import UserFactory

    with pytest.raises(PayloadError, match="pass ids"):
        enqueue(ping_task, note=UserFactory())
