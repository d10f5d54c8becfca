"""Progress is recomputed from rows, never incremented; completion and re-opening happen once."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from enrollments import services
from enrollments.models import Enrollment, LessonCompletion
from enrollments.signals import enrollment_completed
from tests.conftest import is_postgres
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.utils import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced():
    sent = []

    def on_completed(sender, enrollment_id, **kwargs):
        sent.append(("completed", enrollment_id))

    enrollment_completed.connect(on_completed, dispatch_uid="test-completed")
    yield sent
    enrollment_completed.disconnect(dispatch_uid="test-completed")


def _course_with_lessons(n: int, **course):
    course = CourseFactory(**course)
    return course, [LessonFactory(course=course, position=i) for i in range(n)]


def test_sync_counts_completed_published_lessons_over_published_lessons():
    course, lessons = _course_with_lessons(4)
    LessonFactory(course=course, is_published=False)
    enrollment = EnrollmentFactory(course=course)
    LessonCompletionFactory(enrollment=enrollment, lesson=lessons[0])

    synced = services.enrollment_sync_progress(enrollment_id=enrollment.pk)

    assert synced.progress_percent == 25
    assert synced.last_synced_at is not None


def test_running_the_sync_twice_changes_nothing(announced):
    course, lessons = _course_with_lessons(3)
    enrollment = EnrollmentFactory(course=course)
    for lesson in lessons:
        LessonCompletionFactory(enrollment=enrollment, lesson=lesson)

    first = services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    enrollment.refresh_from_db()
    completed_at = enrollment.completed_at
    second = services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    enrollment.refresh_from_db()

    assert (first.progress_percent, first.status) == (100, "completed")
    assert (second.progress_percent, second.status) == (100, "completed")
    assert completed_at is not None and enrollment.completed_at == completed_at
    assert announced == [("completed", enrollment.pk)]


def test_progress_floors_so_only_every_lesson_done_is_100():
    course, lessons = _course_with_lessons(3)
    enrollment = EnrollmentFactory(course=course)
    for lesson in lessons[:2]:
        LessonCompletionFactory(enrollment=enrollment, lesson=lesson)
    assert services.enrollment_sync_progress(enrollment_id=enrollment.pk).progress_percent == 66


def test_publishing_a_new_lesson_reopens_a_completed_enrollment(announced):
    course, lessons = _course_with_lessons(2)
    enrollment = EnrollmentFactory(course=course)
    for lesson in lessons:
        LessonCompletionFactory(enrollment=enrollment, lesson=lesson)
    services.enrollment_sync_progress(enrollment_id=enrollment.pk)

    LessonFactory(course=course, position=9)
    reopened = services.enrollment_sync_progress(enrollment_id=enrollment.pk)

    enrollment.refresh_from_db()
    assert (reopened.progress_percent, reopened.status) == (66, "active")
    assert (enrollment.progress_percent, enrollment.status, enrollment.completed_at) == (66, "active", None)
    assert announced == [("completed", enrollment.pk)]  # re-opening announces nothing


def test_a_course_without_published_lessons_is_zero_not_an_error():
    course = CourseFactory()
    enrollment = EnrollmentFactory(course=course)
    assert services.enrollment_sync_progress(enrollment_id=enrollment.pk).progress_percent == 0


def test_sync_of_a_deleted_enrollment_is_a_no_op():
    assert services.enrollment_sync_progress(enrollment_id=987654) is None


def test_completing_a_lesson_queues_one_sync_after_commit(django_capture_on_commit_callbacks):
    course, lessons = _course_with_lessons(2)
    enrollment = EnrollmentFactory(course=course)

    with django_capture_on_commit_callbacks() as callbacks:
        _, created = services.lesson_complete(learner=enrollment.learner, lesson_id=lessons[0].pk)
        _, again = services.lesson_complete(learner=enrollment.learner, lesson_id=lessons[0].pk)

    assert (created, again) == (True, False)
    assert len(callbacks) == 1
    # The request itself did no arithmetic: progress moves only when the queued sync runs.
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent == 0


def test_lesson_of_unpublished_course_or_without_enrollment_is_refused():
    course, lessons = _course_with_lessons(1)
    learner = EnrollmentFactory(course=CourseFactory()).learner
    with pytest.raises(services.NotEnrolled):
        services.lesson_complete(learner=learner, lesson_id=lessons[0].pk)
    hidden = LessonFactory(course=course, is_published=False)
    enrolled = EnrollmentFactory(course=course).learner
    with pytest.raises(services.NotEnrolled):
        services.lesson_complete(learner=enrolled, lesson_id=hidden.pk)


def test_enrolling_twice_returns_the_same_enrollment():
    course = CourseFactory()
    learner = EnrollmentFactory(course=CourseFactory()).learner
    first, created = services.enrollment_create(learner=learner, course=course)
    second, created_again = services.enrollment_create(learner=learner, course=course)
    assert (created, created_again, first.pk) == (True, False, second.pk)


def _blocked_on_an_enrollment_row() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            [f'%"{Enrollment._meta.db_table}"%'],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sync_that_waited_on_a_concurrent_sync_counts_again_rather_than_write_an_older_count():
    if not is_postgres():
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so there is no race to test")
    course, lessons = _course_with_lessons(3)
    enrollment = EnrollmentFactory(course=course)
    LessonCompletionFactory(enrollment=enrollment, lesson=lessons[0])
    holding, release, synced = threading.Event(), threading.Event(), {}

    def concurrent_completion_and_its_sync():
        try:
            with transaction.atomic():
                LessonCompletion.objects.create(enrollment=enrollment, lesson=lessons[1])
                Enrollment.objects.filter(pk=enrollment.pk).update(progress_percent=66, last_synced_at=timezone.now())
                holding.set()
                release.wait(10)
        finally:
            close_old_connections()

    def our_sync():
        try:
            synced["result"] = services.enrollment_sync_progress(enrollment_id=enrollment.pk)
        finally:
            close_old_connections()

    other = threading.Thread(target=concurrent_completion_and_its_sync)
    other.start()
    assert holding.wait(5)
    ours = threading.Thread(target=our_sync)
    ours.start()  # its statement's snapshot has one completion, and it waits for the row
    wait_for(_blocked_on_an_enrollment_row, message="our sync to wait for the concurrent one's row lock")
    release.set()
    other.join(10)
    ours.join(10)

    # Written from its own snapshot, our sync would have put the row back to 33%.
    assert synced["result"].progress_percent == 66
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent == 66
