"""Reads for enrollments. Lists never run a query per row."""

from dataclasses import dataclass

from django.db.models import Avg, Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.permissions import holds
from courses.models import Course, Lesson
from enrollments import progress
from enrollments.models import Enrollment, LessonCompletion


def enrollment_list_for_learner(*, learner) -> QuerySet[Enrollment]:
    """The learner's enrollments with their course, lesson counts and latest completion, in one query."""
    return (
        Enrollment.objects.filter(learner=learner)
        # `certificate` is the reverse one-to-one the certificates app adds; joined so the dashboard's
        # certificate links cost no query per row.
        .select_related("learner", "course", "certificate")
        .annotate(
            lessons_completed=Count("completions", filter=progress.counted_completions("completions__"), distinct=True),
            last_completed_at=Max("completions__completed_at"),
        )
        .order_by("-enrolled_at", "-id")
    )


def enrollment_list_readable(*, user) -> QuerySet[Enrollment]:
    """What `user` may read through the API: every enrollment for holders of `enrollments.view_enrollment`
    (staff, service accounts of integrations), their own for everyone else; the learner's columns too.

    The counts are correlated subqueries rather than a grouped join: with a page's LIMIT, PostgreSQL
    computes them for that page's rows only, not for the whole table before sorting.
    """
    may_read_all = holds(user, "enrollments.view_enrollment")
    rows = Enrollment.objects.all() if may_read_all else Enrollment.objects.filter(learner=user)
    completions = LessonCompletion.objects.filter(enrollment_id=OuterRef("pk")).order_by()
    done = completions.filter(progress.counted_completions()).values("enrollment_id").annotate(n=Count("*")).values("n")
    return (
        rows.select_related("learner", "course", "certificate")
        .annotate(
            lessons_completed=Coalesce(Subquery(done, output_field=IntegerField()), 0),
            last_completed_at=Subquery(completions.order_by("-completed_at").values("completed_at")[:1]),
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


def lesson_content_visible(*, user, enrollment: Enrollment | None) -> bool:
    """Whether `user` may read the bodies of the lessons of the course `enrollment` (theirs, or None) is in.

    The one rule for the lesson pages and the course API: the syllabus is public; bodies are for learners
    with a live (not cancelled) enrollment and for staff who may view lessons (`courses.view_lesson`).
    """
    if enrollment is not None and enrollment.status != Enrollment.Status.CANCELLED:
        return True
    return bool(user.is_authenticated and user.has_perm("courses.view_lesson"))


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


@dataclass(frozen=True)
class CourseFigures:
    """A course's analytics as they are now (CourseStats keeps the last computed copy)."""

    enrolled: int
    active: int
    completed: int
    cancelled: int
    completion_rate: float
    average_progress: float
    progress_deciles: list[int]

    def as_stats_fields(self) -> dict:
        return dict(self.__dict__)


def course_figures(*, course_id: int) -> CourseFigures:
    """Enrollment counts by status, completion rate, average progress and the progress deciles of a
    course, from its enrollments in one aggregate query."""
    statuses = Enrollment.Status
    deciles = {
        f"d{i}": Count(
            "id", filter=Q(progress_percent__gte=i * 10, progress_percent__lt=(i + 1) * 10 if i < 9 else 101)
        )
        for i in range(10)
    }
    agg = Enrollment.objects.filter(course_id=course_id).aggregate(
        enrolled=Count("id"),
        active=Count("id", filter=Q(status=statuses.ACTIVE)),
        completed=Count("id", filter=Q(status=statuses.COMPLETED)),
        cancelled=Count("id", filter=Q(status=statuses.CANCELLED)),
        average=Avg("progress_percent", filter=~Q(status=statuses.CANCELLED)),
        **deciles,
    )
    live = agg["enrolled"] - agg["cancelled"]
    return CourseFigures(
        enrolled=agg["enrolled"],
        active=agg["active"],
        completed=agg["completed"],
        cancelled=agg["cancelled"],
        completion_rate=round(agg["completed"] * 100 / live, 2) if live else 0,
        average_progress=round(agg["average"] or 0, 2),
        progress_deciles=[agg[f"d{i}"] for i in range(10)],
    )
