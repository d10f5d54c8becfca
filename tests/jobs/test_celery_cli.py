"""Celery's own command line works on this project: `celery -A lms call|inspect|status|purge|result|report`,
each run as a separate process against the test database, the broker and (where a worker must answer) the
session's real worker; `report` prints no secret."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from enrollments.models import Enrollment
from tests.conftest import ROOT, _database_url_for_tests
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.utils import wait_for


def celery(*args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url_for_tests(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **(extra_env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "lms", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_call_queues_a_task_that_the_worker_runs_and_result_shows_its_result(worker):
    course = CourseFactory()
    lessons = [LessonFactory(course=course, position=i) for i in range(2)]
    enrollment = EnrollmentFactory(course=course)
    LessonCompletionFactory(enrollment=enrollment, lesson=lessons[0])

    called = celery("call", "enrollments.sync_progress", "--kwargs", json.dumps({"enrollment_id": enrollment.pk}))

    assert called.returncode == 0, called.stderr
    task_id = called.stdout.strip()
    synced = wait_for(
        lambda: Enrollment.objects.filter(pk=enrollment.pk, last_synced_at__isnull=False).first(),
        timeout=30,
        message="the worker to run the task `celery call` queued",
    )
    assert synced.progress_percent == 50

    def shown_result():
        result = celery("result", task_id)
        return result.returncode == 0 and "progress_percent" in result.stdout and result

    shown = wait_for(
        shown_result,
        timeout=30,
        message="`celery result` to show the task's result",
    )
    assert "'progress_percent': 50" in shown.stdout


def test_inspect_and_status_see_the_worker(worker):
    pinged = celery("inspect", "ping", "--destination", worker.name)
    assert pinged.returncode == 0, pinged.stderr
    assert "pong" in pinged.stdout

    status = celery("status")
    assert status.returncode == 0, status.stderr
    assert f"{worker.name}: OK" in status.stdout


def test_purge_empties_a_queue(worker):
    purged = celery("purge", "--force", "--queues", "email_bulk")
    assert purged.returncode == 0, purged.stderr
    assert "purged" in purged.stdout.lower()


@pytest.mark.django_db
def test_report_masks_every_secret():
    secrets = {
        "SENTRY_DSN": "https://sentrykey123@127.0.0.1:9/1",
        "FLOWER_BASIC_AUTH": "admin:flowerpass123",
        "CACHE_URL": "redis://:cachepass123@127.0.0.1:9/1",
        "SECRET_KEY": "secretkey123-" + "x" * 40,
    }
    broker = settings.CELERY_BROKER_URL.replace("redis://", "redis://:brokerpass123@", 1)

    report = celery("report", extra_env={**secrets, "CELERY_BROKER_URL": broker})

    assert report.returncode == 0, report.stderr
    assert "SENTRY_DSN: '********'" in report.stdout
    assert "CELERY_BROKER_URL: 'redis://:********@" in report.stdout
    for leaked in ("sentrykey123", "flowerpass123", "cachepass123", "secretkey123", "brokerpass123"):
        assert leaked not in report.stdout
