"""Reads for enrollments. Lists never run a query per row."""

from django.db.models import Count, Max, Q, QuerySet

from courses.models import Course, Lesson
from enrollments.models import Enrollment


def enrollment_list_for_learner(*, learner) -> QuerySet[Enrollment]:
    """The learner's enrollments with their course, lesson counts and latest completion, in one query."""
    return (
        Enrollment.objects.filter(learner=learner)
        # `certificate` is the reverse one-to-one the certificates app adds; joined so the dashboard's
        # certificate links cost no query per row.
        .select_related("course", "certificate")
        .annotate(
            lessons_completed=Count("completions", filter=Q(completions__lesson__is_published=True), distinct=True),
            last_completed_at=Max("completions__completed_at"),
        )
        .order_by("-enrolled_at", "-id")
    )


def enrollment_get_for_learner(*, learner, enrollment_id: int) -> Enrollment:
    """One of the learner's own enrollments; anyone else's raises DoesNotExist (answered 404)."""
    return enrollment_list_for_learner(learner=learner).get(pk=enrollment_id)


def enrollment_for_course(*, learner, course: Course) -> Enrollment | None:
    if not learner.is_authenticated:
        return None
    return Enrollment.objects.filter(learner=learner, course=course).first()


def completed_lesson_ids(*, enrollment: Enrollment | None) -> set[int]:
    if enrollment is None:
        return set()
    return set(enrollment.completions.values_list("lesson_id", flat=True))


def lesson_neighbours(*, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    """The published lessons before and after `lesson` in its course."""
    siblings = Lesson.objects.published().filter(course_id=lesson.course_id)
    before = siblings.filter(Q(position__lt=lesson.position) | Q(position=lesson.position, id__lt=lesson.id))
    after = siblings.filter(Q(position__gt=lesson.position) | Q(position=lesson.position, id__gt=lesson.id))
    return before.order_by("-position", "-id").first(), after.order_by("position", "id").first()
