"""The learner journey across real boundaries: HTTP -> database -> broker -> worker process -> database."""

import json
import threading

import pytest
from django.db import close_old_connections
from django_celery_results.models import TaskResult

from courses.models import Course
from enrollments import services
from enrollments.models import CourseStats, Enrollment
from tests.conftest import is_postgres
from tests.courses.factories import CourseFactory, LessonFactory, course_with_lessons
from tests.enrollments.factories import EnrollmentFactory
from tests.utils import wait_for

pytestmark = pytest.mark.integration


def test_register_enroll_complete_every_lesson_reaches_100_through_the_worker(worker, api_client):
    course, lessons = course_with_lessons(4, slug="journey")
    LessonFactory(course=course, is_published=False)

    assert (
        api_client.post(
            "/api/auth/register/",
            {"email": "journey@example.com", "password": "a-long-passphrase-42", "full_name": "Jo"},
            format="json",
        ).status_code
        == 201
    )
    token = api_client.post(
        "/api/auth/token/", {"email": "journey@example.com", "password": "a-long-passphrase-42"}, format="json"
    ).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    enrollment = api_client.post("/api/courses/journey/enroll/")
    assert enrollment.status_code == 201
    enrollment_id = enrollment.json()["id"]

    for lesson in lessons:
        assert api_client.post(f"/api/lessons/{lesson.pk}/complete/").status_code == 202

    def synced():
        body = api_client.get(f"/api/enrollments/{enrollment_id}/").json()
        return body if body["progress_percent"] == 100 and body["status"] == "completed" else None

    body = wait_for(synced, timeout=30, message="progress 100% through the worker")
    assert body["completed_at"] and body["last_synced_at"] >= body["completed_at"]
    assert body["lessons_completed"] == 4
    ours = TaskResult.objects.filter(
        task_name="enrollments.sync_progress",
        status="SUCCESS",
        task_kwargs__contains=f"'enrollment_id': {enrollment_id}",
    )
    # One sync queued by the enrollment and one by each completion, each with its TaskResult row; the
    # syncs themselves wrote the 100 % (the lessons queued no course-wide recompute that could have).
    wait_for(lambda: ours.count() == 5, message="a TaskResult for every sync of the enrollment")
    assert {"enrollment_id": enrollment_id, "progress_percent": 100, "status": "completed"} in [
        json.loads(result.result) for result in ours
    ]


@pytest.mark.postgres
def test_two_lessons_completed_concurrently_are_both_counted(worker):
    if not is_postgres():
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so there is no race to test")
    course, (first, second, _, _) = course_with_lessons(4)
    enrollment = EnrollmentFactory(course=course)
    barrier = threading.Barrier(2)
    errors = []

    def complete(lesson):
        try:
            barrier.wait(timeout=5)
            services.lesson_complete(learner=enrollment.learner, lesson_id=lesson.pk)
        except Exception as exc:  # surfaced below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=complete, args=(lesson,)) for lesson in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    wait_for(
        lambda: Enrollment.objects.filter(pk=enrollment.pk, progress_percent=50).exists(),
        message="both concurrent completions counted (50%)",
    )
    # Give any straggling sync the chance to run; the value must stay at 50, never 25.
    wait_for(lambda: TaskResult.objects.filter(task_name="enrollments.sync_progress").count() >= 2, message="syncs")
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent == 50


def test_publishing_a_lesson_recomputes_the_course_in_the_background(worker):
    course, lessons = course_with_lessons(2)
    enrollments = EnrollmentFactory.create_batch(3, course=course)
    for enrollment in enrollments:
        for lesson in lessons:
            services.lesson_complete(learner=enrollment.learner, lesson_id=lesson.pk)
    wait_for(
        lambda: Enrollment.objects.filter(course=course, status="completed").count() == 3,
        message="every enrollment completed by its syncs",
    )

    # From here on lesson edits queue the recompute (the set-up's lessons queued none).
    Course.objects.filter(pk=course.pk).update(progress_recompute_requested_at=None)
    LessonFactory(course=course, position=9)  # published: everyone is now at 2 of 3

    wait_for(
        lambda: Enrollment.objects.filter(course=course, status="active", progress_percent=66).count() == 3,
        timeout=30,
        message="the debounced course-wide recompute",
    )
    runs = TaskResult.objects.filter(task_name="enrollments.recompute_course_progress", status="SUCCESS")
    assert sum(f"'course_id': {course.pk}" in run.task_kwargs for run in runs) == 1


def test_nightly_analytics_task_fills_course_stats(worker):
    from enrollments.tasks import all_course_stats_recompute_task
    from jobs.enqueue import enqueue

    course = CourseFactory()
    EnrollmentFactory.create_batch(2, course=course)
    enqueue(all_course_stats_recompute_task)
    stats = wait_for(lambda: CourseStats.objects.filter(course=course).first(), message="course stats row")
    assert stats.enrolled == 2 and stats.progress_deciles == [2] + [0] * 9
