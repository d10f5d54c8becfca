"""The progress rule (enrollments/progress.py) is one rule: the per-enrollment sync and the course-wide
recompute write the same percentage and status for the same rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enrollments import progress, services
from enrollments.models import Enrollment
from enrollments.signals import enrollment_completed
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory

pytestmark = pytest.mark.django_db

ACTIVE, COMPLETED, CANCELLED = "active", "completed", "cancelled"

# name: (course, status before, lessons completed, expected percent, expected status)
# Course "main" has three published lessons p0-p2, an unpublished one `draft` and one deleted after its
# completions were recorded; course "empty" has only an unpublished lesson; `foreign` is a lesson of
# another course (a completion row for it never counts).
CASES = {
    "nothing done": ("main", ACTIVE, [], 0, ACTIVE),
    "one of three, floored": ("main", ACTIVE, ["p0"], 33, ACTIVE),
    "two of three, floored": ("main", ACTIVE, ["p0", "p1"], 66, ACTIVE),
    "all done": ("main", ACTIVE, ["p0", "p1", "p2"], 100, COMPLETED),
    "all and the draft": ("main", ACTIVE, ["p0", "p1", "p2", "draft"], 100, COMPLETED),
    "only the draft": ("main", ACTIVE, ["draft"], 0, ACTIVE),
    "two and the deleted one": ("main", ACTIVE, ["p0", "p1", "deleted"], 66, ACTIVE),
    "all and a foreign lesson": ("main", ACTIVE, ["p0", "p1", "p2", "foreign"], 100, COMPLETED),
    "completed, now partial": ("main", COMPLETED, ["p0"], 33, ACTIVE),
    "completed, still all": ("main", COMPLETED, ["p0", "p1", "p2"], 100, COMPLETED),
    "cancelled, all done": ("main", CANCELLED, ["p0", "p1", "p2"], 100, CANCELLED),
    "cancelled, nothing": ("main", CANCELLED, [], 0, CANCELLED),
    "no published lessons": ("empty", ACTIVE, ["empty_draft"], 0, ACTIVE),
    "completed, no published lessons": ("empty", COMPLETED, [], 0, ACTIVE),
}


@pytest.fixture
def rows():
    """The enrollments of CASES, each with a stale percentage (7) so that every path must write it."""
    main, empty = CourseFactory(), CourseFactory()
    lessons = {f"p{i}": LessonFactory(course=main, position=i) for i in range(3)}
    lessons["draft"] = LessonFactory(course=main, is_published=False)
    lessons["deleted"] = LessonFactory(course=main)
    lessons["empty_draft"] = LessonFactory(course=empty, is_published=False)
    lessons["foreign"] = LessonFactory()
    courses = {"main": main, "empty": empty}
    long_ago = timezone.now() - timedelta(days=30)
    enrollments = {}
    for name, (course, status, done, _percent, _status) in CASES.items():
        enrollment = EnrollmentFactory(
            course=courses[course],
            status=status,
            progress_percent=7,
            completed_at=long_ago if status == COMPLETED else None,
        )
        for lesson in done:
            LessonCompletionFactory(enrollment=enrollment, lesson=lessons[lesson])
        enrollments[name] = enrollment
    lessons["deleted"].delete()  # its completion rows go with it
    return courses, enrollments


@pytest.fixture
def announced():
    sent = []

    def on_completed(sender, enrollment_id, **kwargs):
        sent.append(enrollment_id)

    enrollment_completed.connect(on_completed, dispatch_uid="test-progress-rule")
    yield sent
    enrollment_completed.disconnect(dispatch_uid="test-progress-rule")


def _snapshot(enrollments: dict, before: dict) -> dict:
    """Each row's percent, status and completion time ("kept", "new" or None) as now stored."""
    stored = Enrollment.objects.in_bulk([e.pk for e in enrollments.values()])
    result = {}
    for name, enrollment in enrollments.items():
        row = stored[enrollment.pk]
        completed_at = row.completed_at
        if completed_at is not None:
            completed_at = "kept" if completed_at == before[name]["completed_at"] else "new"
        result[name] = (row.progress_percent, row.status, completed_at)
    return result


def _reset(enrollments: dict, before: dict) -> None:
    for name, enrollment in enrollments.items():
        Enrollment.objects.filter(pk=enrollment.pk).update(**before[name])


def test_the_sync_and_the_course_recompute_agree_row_by_row(rows, announced):
    courses, enrollments = rows
    before = {
        name: {"status": e.status, "progress_percent": e.progress_percent, "completed_at": e.completed_at}
        for name, e in enrollments.items()
    }

    for enrollment in enrollments.values():
        services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    by_sync, announced_by_sync = _snapshot(enrollments, before), sorted(announced)

    _reset(enrollments, before)
    announced.clear()
    for course in courses.values():
        services.course_recompute_progress(course_id=course.pk, batch_size=4)  # several batches per course
    by_recompute, announced_by_recompute = _snapshot(enrollments, before), sorted(announced)

    assert by_sync == by_recompute
    assert announced_by_sync == announced_by_recompute


def test_both_paths_follow_the_rule(rows):
    courses, enrollments = rows
    expected = {name: (case[3], case[4]) for name, case in CASES.items()}

    for enrollment in enrollments.values():
        services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    synced = {name: (e.progress_percent, e.status) for name, e in _fresh(enrollments).items()}
    Enrollment.objects.filter(pk__in=[e.pk for e in enrollments.values()]).update(progress_percent=7)
    for course in courses.values():
        services.course_recompute_progress(course_id=course.pk)
    recomputed = {name: (e.progress_percent, e.status) for name, e in _fresh(enrollments).items()}

    assert synced == expected
    assert recomputed == expected


def _fresh(enrollments: dict) -> dict:
    stored = Enrollment.objects.in_bulk([e.pk for e in enrollments.values()])
    return {name: stored[e.pk] for name, e in enrollments.items()}


@pytest.mark.parametrize(
    ("status", "percent", "expected"),
    [
        (ACTIVE, 99, None),
        (ACTIVE, 100, progress.COMPLETES),
        (COMPLETED, 100, None),
        (COMPLETED, 0, progress.REOPENS),
        (CANCELLED, 100, None),
        (CANCELLED, 0, None),
    ],
)
def test_the_status_changes_only_at_the_line(status, percent, expected):
    assert progress.status_change(status=status, percent=percent) is expected
