"""Staff pages of reports: downloading one (only through a permission check, this view or the API's, never
a public URL), a course's learners and one learner's lessons, certificate, messages and jobs."""

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.permissions import staff_permission_required
from courses.models import Course, Lesson
from enrollments.models import Enrollment
from reports import selectors
from reports.models import Report
from reports.panels import learner_panels


def report_file_response(pk: int) -> HttpResponse:
    """The report's file as an attachment; 404 if there is no such report or it has no file yet, 410 once
    it has expired."""
    report = Report.objects.select_related("course").filter(pk=pk).first()
    if report is None or not report.file:
        raise Http404
    if report.expires_at and report.expires_at <= timezone.now():
        return HttpResponse("This report has expired; generate it again.", status=410, content_type="text/plain")
    response = FileResponse(report.file.open("rb"), as_attachment=True, filename=report.file_name)
    response["Cache-Control"] = "private, no-store"
    return response


@staff_permission_required("reports.view_report")
@require_safe
def report_download(request, pk: int):
    return report_file_response(pk)


# --- Staff: a course's learners, one learner ---------------------------------------------------------

LEARNERS_PER_PAGE = 50


@staff_permission_required("enrollments.view_enrollment")
@require_safe
def course_learners(request, slug: str):
    course = get_object_or_404(Course, slug=slug)
    search = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    sort = request.GET.get("sort", "-activity")
    rows = selectors.course_learners(course_id=course.pk, search=search, status=status, sort=sort)
    page = Paginator(rows, LEARNERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "course": course,
        "page": page,
        "search": search,
        "status": status,
        "sort": sort if sort in selectors.LEARNER_SORTS else "-activity",
        "statuses": Enrollment.Status.choices,
        "lessons_total": Lesson.objects.published().filter(course=course).count(),
    }
    return render(request, "reports/learners.html", context)


@staff_permission_required("enrollments.view_enrollment")
@require_safe
def learner_detail(request, slug: str, enrollment_id: int):
    course = get_object_or_404(Course, slug=slug)
    detail = selectors.learner_detail(course_id=course.pk, enrollment_id=enrollment_id)
    if detail is None:
        raise Http404
    panels = learner_panels(enrollment=detail.enrollment, certificate=detail.certificate)
    return render(request, "reports/learner_detail.html", {"course": course, "detail": detail, "panels": panels})
