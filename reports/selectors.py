"""The rows of each report, streamed from the database (a server-side cursor on PostgreSQL) in a fixed
order, and the reports staff may see. Each report is (header, number of rows, rows)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate
from courses.models import Lesson
from enrollments.models import Enrollment, LessonCompletion
from jobs.models import Job
from reports.expressions import LocalTime
from reports.models import Report
from reports.streaming import stream_rows

CHUNK = 2000  # rows fetched per round trip from the server-side cursor


@dataclass
class Table:
    header: list[str]
    count: int
    rows: Iterator[list]
    times: frozenset[int] = frozenset()  # the columns that are times (text in the site's zone, or empty)


def report_list() -> QuerySet[Report]:
    return Report.objects.select_related("operation", "course", "requested_by")


def _published_lessons(course_id: int) -> QuerySet[Lesson]:
    return Lesson.objects.published().filter(course_id=course_id).order_by("position", "id")


def course_progress(*, course_id: int) -> Table:
    """One row per enrollment: learner, dates, status, lessons completed of the published total (the
    progress rule's count), progress %, last activity, certificate code and state."""
    published = list(_published_lessons(course_id).values_list("pk", flat=True))
    enrollments = (
        Enrollment.objects.filter(course_id=course_id)
        .annotate(
            done=Count("completions", filter=Q(completions__lesson_id__in=published)),
            last_activity=LocalTime(Max("completions__completed_at")),
            enrolled=LocalTime("enrolled_at"),
        )
        .order_by("pk")
        .values_list(
            "learner__full_name",
            "learner__email",
            "enrolled",
            "status",
            "done",
            "progress_percent",
            "last_activity",
            "certificate__code",
            "certificate__status",
            "certificate__id",  # then grouped by the certificate's key, not by its text columns on every row
        )
    )
    header = ["learner_name", "learner_email", "enrolled_at", "status", "lessons_completed", "lessons_total",
              "progress_percent", "last_activity", "certificate_code", "certificate_state"]  # fmt: skip
    total = len(published)

    def rows():
        for name, email, enrolled, status, done, percent, last, code, state, _ in stream_rows(enrollments, chunk=CHUNK):
            yield [name, email, enrolled, status, done, total, percent, last, code or "", state or ""]

    count = Enrollment.objects.filter(course_id=course_id).count()
    return Table(header, count, rows(), times=frozenset({2, 7}))


def lesson_completion(*, course_id: int) -> Table:
    """One row per enrollment, one column per published lesson (in course order): when the learner
    completed it, empty if not yet. Two ordered cursors merged, never the whole course in memory."""
    lessons = list(_published_lessons(course_id).values_list("pk", "title"))
    column = {pk: index for index, (pk, _) in enumerate(lessons)}
    enrollments = Enrollment.objects.filter(course_id=course_id).order_by("pk")
    completions = (
        LessonCompletion.objects.filter(enrollment__course_id=course_id, lesson_id__in=column)
        .order_by("enrollment_id")
        .values_list("enrollment_id", "lesson_id", LocalTime("completed_at"))
    )

    def rows():
        pending = stream_rows(completions, chunk=CHUNK)
        current = next(pending, None)
        for pk, name, email in stream_rows(
            enrollments.values_list("pk", "learner__full_name", "learner__email"), chunk=CHUNK
        ):
            cells = [""] * len(lessons)
            while current is not None and current[0] <= pk:
                if current[0] == pk:
                    cells[column[current[1]]] = current[2]
                current = next(pending, None)
            yield [name, email, *cells]

    header = ["learner_name", "learner_email", *[title for _, title in lessons]]
    return Table(header, enrollments.count(), rows(), times=frozenset(range(2, 2 + len(lessons))))


def _day_bounds(start, end) -> Q:
    zone = timezone.get_default_timezone()
    condition = Q()
    if start:
        condition &= Q(issued_at__gte=timezone.make_aware(datetime.combine(start, time.min), zone))
    if end:
        condition &= Q(issued_at__lte=timezone.make_aware(datetime.combine(end, time.max), zone))
    return condition


def certificates_issued(*, course_id: int | None, period_start, period_end) -> Table:
    """Certificates issued in the period (both days included, in the site's time zone), of one course or
    all, oldest first: revoked ones too, with their state."""
    found = Certificate.objects.filter(_day_bounds(period_start, period_end), issued_at__isnull=False)
    if course_id:
        found = found.filter(enrollment__course_id=course_id)
    found = found.order_by("issued_at", "pk")
    header = ["certificate_code", "learner_name", "learner_email", "course_slug", "course_title", "issued_at",
              "state", "revoked_at", "verification_url"]  # fmt: skip
    verify = settings.SITE_URL + reverse("certificate_verify", kwargs={"code": "CODE"}).replace("CODE", "{}")

    def rows():
        values = found.values_list(
            "code", "learner_name", "enrollment__learner__email", "enrollment__course__slug", "course_title",
            LocalTime("issued_at"), "status", LocalTime("revoked_at"),
        )  # fmt: skip
        for code, name, email, slug, title, issued, state, revoked in stream_rows(values, chunk=CHUNK):
            yield [code, name, email, slug, title, issued, state, revoked or "", verify.format(code)]

    return Table(header, found.count(), rows(), times=frozenset({5, 7}))


# --- Staff's view of a course's learners -----------------------------------------------------------

LEARNER_SORTS = {
    "progress": ("progress_percent", False),
    "-progress": ("progress_percent", True),
    "activity": ("last_activity", False),
    "-activity": ("last_activity", True),
    "enrolled": ("enrolled_at", False),
    "-enrolled": ("enrolled_at", True),
    "name": ("learner__full_name", False),
}


def course_learners(*, course_id: int, search: str = "", status: str = "", sort: str = "-activity") -> QuerySet:
    """A course's enrollments with each learner's completed (published) lessons and last activity;
    searched by name or email, filtered by status, sorted (never-active learners last either way)."""
    published = Lesson.objects.published().filter(course_id=course_id).values("pk")
    rows = (
        Enrollment.objects.filter(course_id=course_id)
        .select_related("learner")
        .annotate(
            done=Count("completions", filter=Q(completions__lesson_id__in=published)),
            last_activity=Max("completions__completed_at"),
        )
    )
    if search:
        rows = rows.filter(Q(learner__full_name__icontains=search) | Q(learner__email__icontains=search))
    if status in Enrollment.Status.values:
        rows = rows.filter(status=status)
    field, descending = LEARNER_SORTS.get(sort, LEARNER_SORTS["-activity"])
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return rows.order_by(order, "pk")


@dataclass
class LearnerDetail:
    enrollment: Enrollment
    lessons: list[tuple[Lesson, datetime | None]]  # each published lesson and when it was completed
    certificate: Certificate | None
    jobs: list[Job]


def learner_detail(*, course_id: int, enrollment_id: int) -> LearnerDetail | None:
    enrollment = (
        Enrollment.objects.select_related("learner", "course").filter(course_id=course_id, pk=enrollment_id).first()
    )
    if enrollment is None:
        return None
    completed = dict(enrollment.completions.values_list("lesson_id", "completed_at"))
    lessons = [(lesson, completed.get(lesson.pk)) for lesson in _published_lessons(course_id)]
    certificate = Certificate.objects.filter(enrollment=enrollment).first()
    about = Q(content_type=ContentType.objects.get_for_model(Enrollment), object_id=enrollment.pk)
    if certificate is not None:
        about |= Q(content_type=ContentType.objects.get_for_model(Certificate), object_id=certificate.pk)
    jobs = list(Job.objects.filter(about).order_by("-created_at", "-id")[:50])
    return LearnerDetail(enrollment, lessons, certificate, jobs)
