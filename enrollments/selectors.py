"""Reads for enrollments. Lists never run a query per row."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from courses.models import Course, Lesson
from enrollments.models import Enrollment, ImportJob, LessonCompletion
from lms.permissions import holds


def enrollment_list_for_learner(*, learner) -> QuerySet[Enrollment]:
    """The learner's enrollments with their course, lesson counts and latest completion, in one query."""
    return (
        Enrollment.objects.filter(learner=learner)
        # `certificate` is the reverse one-to-one the certificates app adds; joined so the dashboard's
        # certificate links cost no query per row.
        .select_related("learner", "course", "certificate")
        .annotate(
            lessons_completed=Count("completions", filter=Q(completions__lesson__is_published=True), distinct=True),
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
    done = completions.filter(lesson__is_published=True).values("enrollment_id").annotate(n=Count("*")).values("n")
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


def import_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("uploaded_by").order_by("-created_at", "-id")


@dataclass(frozen=True)
class ImportProgress:
    percent: int
    rate_per_second: float | None  # rows applied per second since processing began
    eta_seconds: int | None


def import_progress(*, import_job: ImportJob, now=None) -> ImportProgress:
    """Percent, rate and estimated time left of an import, from its started_at and rows_done."""
    job = import_job
    end = job.finished_at or now or timezone.now()
    elapsed = (end - job.started_at).total_seconds() if job.started_at else 0
    rate = job.rows_done / elapsed if elapsed > 0 and job.rows_done else None
    eta = None
    if job.status == ImportJob.Status.RUNNING and rate and job.total_rows is not None:
        eta = round((job.total_rows - job.rows_done) / rate)
    elif job.is_finished:
        eta = 0 if job.status == ImportJob.Status.COMPLETED else None
    return ImportProgress(percent=job.percent, rate_per_second=round(rate, 1) if rate else None, eta_seconds=eta)


def import_error_rows(*, import_job: ImportJob) -> Iterator[tuple[int, list, str]]:
    """(row number, the row's fields, reason) of each refused row, in file order, streamed from the database."""
    return (
        import_job.row_errors.order_by("row_number")
        .values_list("row_number", "values", "reason")
        .iterator(chunk_size=2000)
    )
