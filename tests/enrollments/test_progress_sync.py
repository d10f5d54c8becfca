"""Progress is recomputed from rows, never incremented; completion and re-opening happen once."""

import pytest

from enrollments import services
from enrollments.models import Enrollment
from enrollments.signals import enrollment_completed, enrollment_reopened
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced():
    sent = []

    def on_completed(sender, enrollment_id, **kwargs):
        sent.append(("completed", enrollment_id))

    def on_reopened(sender, enrollment_id, **kwargs):
        sent.append(("reopened", enrollment_id))

    enrollment_completed.connect(on_completed, dispatch_uid="test-completed")
    enrollment_reopened.connect(on_reopened, dispatch_uid="test-reopened")
    yield sent
    enrollment_completed.disconnect(dispatch_uid="test-completed")
    enrollment_reopened.disconnect(dispatch_uid="test-reopened")


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
    assert announced == [("completed", enrollment.pk), ("reopened", enrollment.pk)]


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
        _, created = services.lesson_complete(learner=enrollment.learner, lesson=lessons[0])
        _, again = services.lesson_complete(learner=enrollment.learner, lesson=lessons[0])

    assert (created, again) == (True, False)
    assert len(callbacks) == 1
    # The request itself did no arithmetic: progress moves only when the queued sync runs.
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent == 0


def test_lesson_of_unpublished_course_or_without_enrollment_is_refused():
    course, lessons = _course_with_lessons(1)
    learner = EnrollmentFactory(course=CourseFactory()).learner
    with pytest.raises(services.NotEnrolled):
        services.lesson_complete(learner=learner, lesson=lessons[0])
    hidden = LessonFactory(course=course, is_published=False)
    enrolled = EnrollmentFactory(course=course).learner
    with pytest.raises(services.NotEnrolled):
        services.lesson_complete(learner=enrolled, lesson=hidden)


def test_enrolling_twice_returns_the_same_enrollment():
    course = CourseFactory()
    learner = EnrollmentFactory(course=CourseFactory()).learner
    first, created = services.enrollment_create(learner=learner, course=course)
    second, created_again = services.enrollment_create(learner=learner, course=course)
    assert (created, created_again, first.pk) == (True, False, second.pk)
