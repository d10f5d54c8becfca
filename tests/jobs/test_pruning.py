"""Pruning old results and jobs: what goes and what stays, in batches, within a budget, and a job that a
kept retry points at."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs.models import Job
from jobs.pruning import results_prune

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _result(status: str, age: timedelta) -> TaskResult:
    result = TaskResult.objects.create(task_id=f"r-{TaskResult.objects.count()}", status=status)
    TaskResult.objects.filter(pk=result.pk).update(date_done=timezone.now() - age)
    return result


def _job(age: timedelta, **fields) -> Job:
    job = Job.objects.create(task_name="lms.ping", queue="default", **fields)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    return job


def test_old_successes_failures_and_jobs_go_and_the_rest_stays():
    old_ok, new_ok = _result("SUCCESS", 8 * DAY), _result("SUCCESS", 6 * DAY)
    old_failure, kept_failure = _result("FAILURE", 31 * DAY), _result("FAILURE", 8 * DAY)
    running = _result("STARTED", 40 * DAY)
    old_job, new_job = _job(31 * DAY), _job(29 * DAY)
    dead = _job(60 * DAY, publish_state=Job.Publish.DEAD)

    assert results_prune() == {"more": False, "succeeded": 1, "failed": 1, "jobs": 1}

    assert set(TaskResult.objects.values_list("pk", flat=True)) == {new_ok.pk, kept_failure.pk, running.pk}
    assert set(Job.objects.values_list("pk", flat=True)) == {new_job.pk, dead.pk}
    assert not TaskResult.objects.filter(pk__in=[old_ok.pk, old_failure.pk]).exists()
    assert not Job.objects.filter(pk=old_job.pk).exists()


def test_rows_are_deleted_in_batches_each_a_statement_of_its_own():
    for _ in range(7):
        _result("SUCCESS", 10 * DAY)

    with CaptureQueriesContext(connection) as queries:
        pruned = results_prune(batch=3)

    assert pruned["succeeded"] == 7 and not TaskResult.objects.exists()
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 1


def test_a_spent_budget_stops_the_run_and_says_more_is_left():
    for _ in range(5):
        _result("SUCCESS", 10 * DAY)
    _job(40 * DAY)

    pruned = results_prune(batch=2, budget_seconds=0)

    assert pruned["more"] is True and TaskResult.objects.count() == 5 and Job.objects.count() == 1
    assert results_prune(batch=2)["more"] is False
    assert not TaskResult.objects.exists() and not Job.objects.exists()


def test_a_pruned_job_that_a_kept_retry_points_at_leaves_the_retry_unlinked():
    original = _job(40 * DAY)
    retry = _job(1 * DAY, retry_of=original)

    results_prune()

    assert not Job.objects.filter(pk=original.pk).exists()
    retry.refresh_from_db()
    assert retry.retry_of_id is None


def test_the_nightly_task_queues_itself_again_while_rows_remain(monkeypatch):
    from jobs.tasks import results_prune_task

    _result("SUCCESS", 10 * DAY)
    monkeypatch.setattr("jobs.tasks.PRUNE_BUDGET", 0)

    assert results_prune_task()["more"] is True

    assert Job.objects.filter(task_name="lms.prune_results").count() == 1
