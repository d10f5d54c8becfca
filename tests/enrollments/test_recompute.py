"""Course-wide recompute in set-based SQL, collapsed triggers, and course analytics."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Course
from enrollments import services
from enrollments.models import Enrollment, LessonCompletion
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.jobs.factories import staff_with

pytestmark = pytest.mark.django_db


def _course_with_enrollments(n_enrollments: int, n_lessons: int = 4, done_per_enrollment: int = 2):
    course = CourseFactory()
    lessons = [LessonFactory(course=course, position=i) for i in range(n_lessons)]
    users = get_user_model().objects.bulk_create(
        get_user_model()(email=f"bulk{course.pk}-{i}@example.com") for i in range(n_enrollments)
    )
    enrollments = Enrollment.objects.bulk_create(Enrollment(learner=u, course=course) for u in users)
    LessonCompletion.objects.bulk_create(
        LessonCompletion(enrollment=e, lesson=lesson) for e in enrollments for lesson in lessons[:done_per_enrollment]
    )
    return course, lessons


def _queries_to_recompute(course, **kwargs) -> int:
    with CaptureQueriesContext(connection) as ctx:
        services.course_recompute_progress(course_id=course.pk, **kwargs)
    return len(ctx.captured_queries)


def test_recompute_of_10000_enrollments_runs_the_same_queries_as_of_10():
    small, _ = _course_with_enrollments(10)
    large, _ = _course_with_enrollments(10_000)

    small_queries = _queries_to_recompute(small, batch_size=20_000)
    large_queries = _queries_to_recompute(large, batch_size=20_000)

    assert large_queries == small_queries <= 12
    assert set(Enrollment.objects.filter(course=large).values_list("progress_percent", flat=True)) == {50}


def test_recompute_in_batches_grows_with_batches_not_rows():
    course, _ = _course_with_enrollments(1_000)
    assert _queries_to_recompute(course, batch_size=100) <= 4 + 10 * 5
    assert Enrollment.objects.filter(course=course, progress_percent=50).count() == 1_000


def test_recompute_completes_and_reopens_enrollments():
    course, _ = _course_with_enrollments(3, n_lessons=2, done_per_enrollment=2)
    services.course_recompute_progress(course_id=course.pk)
    assert set(Enrollment.objects.filter(course=course).values_list("status", "progress_percent")) == {
        ("completed", 100)
    }

    LessonFactory(course=course, position=5)  # a new published lesson
    services.course_recompute_progress(course_id=course.pk)
    rows = set(Enrollment.objects.filter(course=course).values_list("status", "progress_percent", "completed_at"))
    assert rows == {("active", 66, None)}


def test_lesson_edits_in_a_burst_queue_one_recompute(django_capture_on_commit_callbacks):
    course = CourseFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        first = LessonFactory(course=course)
        LessonFactory(course=course)
        first.is_published = False
        first.save()
        first.delete()
    assert len(callbacks) == 1
    assert Course.objects.get(pk=course.pk).progress_recompute_requested_at is not None


def test_editing_a_lesson_without_changing_publication_queues_nothing(django_capture_on_commit_callbacks):
    lesson = LessonFactory()
    Course.objects.filter(pk=lesson.course_id).update(progress_recompute_requested_at=None)
    lesson.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks:
        lesson.title = "Renamed"
        lesson.save()
    assert callbacks == []


def test_course_stats_count_statuses_average_and_deciles():
    course = CourseFactory()
    lessons = [LessonFactory(course=course, position=i) for i in range(10)]
    for done in (0, 3, 5, 10):
        enrollment = EnrollmentFactory(course=course)
        for lesson in lessons[:done]:
            LessonCompletionFactory(enrollment=enrollment, lesson=lesson)
    EnrollmentFactory(course=course, status="cancelled")
    services.course_recompute_progress(course_id=course.pk)

    stats = services.course_stats_recompute(course_id=course.pk)

    assert (stats.enrolled, stats.active, stats.completed, stats.cancelled) == (5, 3, 1, 1)
    assert float(stats.completion_rate) == 25.0
    assert float(stats.average_progress) == 45.0  # (0 + 30 + 50 + 100) / 4 live enrollments
    assert stats.progress_deciles == [2, 0, 0, 1, 0, 1, 0, 0, 0, 1]


def test_analytics_page_is_for_staff_only(client):
    course = CourseFactory()
    services.course_stats_recompute(course_id=course.pk)
    url = f"/staff/courses/{course.slug}/analytics/"
    learner = EnrollmentFactory(course=course).learner
    client.force_login(learner)
    assert client.get(url).status_code == 302  # to the admin login, never the numbers
    staff = staff_with("enrollments.view_coursestats", email="staff@example.com")
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert b"<svg" in response.content and b"Completion rate" in response.content


def test_staff_recompute_button_queues_the_course_analytics(client, django_capture_on_commit_callbacks):
    from jobs.models import Job

    course = CourseFactory()
    staff = staff_with("enrollments.recompute_coursestats", email="boss@example.com")
    client.force_login(staff)
    with django_capture_on_commit_callbacks():
        response = client.post(f"/staff/courses/{course.slug}/analytics/recompute/")
    assert response.status_code == 302
    job = Job.objects.get(task_name="enrollments.recompute_course_stats")
    assert job.kwargs == {"course_id": course.pk} and job.triggered_by.startswith(f"user:{staff.pk}")
