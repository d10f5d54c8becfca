"""Learner pages that combine a course with the learner's own enrollment state."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from courses import selectors as course_selectors
from courses.models import Course, Lesson
from enrollments import selectors, services
from enrollments.forms import ImportUploadForm, ImportUploadLimit
from enrollments.models import Enrollment
from enrollments.services import imports
from lms.accounts import services as account_services
from lms.accounts.forms import CertificateNameForm
from lms.permissions import staff_permission_required


@require_safe
def course_detail(request, slug: str):
    try:
        course = course_selectors.course_get_published(slug=slug)
    except Course.DoesNotExist:
        raise Http404 from None
    enrollment = selectors.enrollment_for_course(learner=request.user, course=course)
    done = selectors.completed_lesson_ids(enrollment=enrollment)
    next_lesson = next((lesson for lesson in course.published_lessons if lesson.pk not in done), None)
    context = {
        "course": course,
        "enrollment": enrollment,
        "can_read": selectors.lesson_content_visible(user=request.user, enrollment=enrollment),
        "completed_ids": done,
        "next_lesson": next_lesson,
    }
    return render(request, "enrollments/course_detail.html", context)


@login_required
@require_POST
def course_enroll(request, slug: str):
    course = get_object_or_404(Course.objects.published(), slug=slug)
    _, created = services.enrollment_create(learner=request.user, course=course)
    if created:
        messages.success(request, f"You are enrolled in {course.title}.")
    return redirect(course.get_absolute_url())


@login_required
@require_safe
def lesson_detail(request, course_slug: str, lesson_slug: str):
    try:
        lesson = course_selectors.lesson_get_visible(course_slug=course_slug, lesson_slug=lesson_slug)
    except Lesson.DoesNotExist:
        raise Http404 from None
    enrollment = selectors.enrollment_for_course(learner=request.user, course=lesson.course)
    if not selectors.lesson_content_visible(user=request.user, enrollment=enrollment):
        messages.info(request, "Enroll in the course to read its lessons.")
        return redirect(lesson.course.get_absolute_url())
    previous, following = selectors.lesson_neighbours(lesson=lesson)
    return render(
        request,
        "enrollments/lesson_detail.html",
        {
            "lesson": lesson,
            "course": lesson.course,
            "enrollment": enrollment,
            "is_complete": lesson.pk in selectors.completed_lesson_ids(enrollment=enrollment),
            "previous": previous,
            "next": following,
        },
    )


@login_required
@require_POST
def lesson_complete(request, pk: int):
    lesson = get_object_or_404(Lesson.objects.select_related("course"), pk=pk)
    try:
        services.lesson_complete(learner=request.user, lesson_id=lesson.pk)
    except services.NotEnrolled:
        raise Http404 from None
    _, following = selectors.lesson_neighbours(lesson=lesson)
    messages.success(request, f"“{lesson.title}” marked complete. Your progress is being updated.")
    return redirect(following.get_absolute_url() if following else "dashboard")


def _dashboard(request, *, name_form=None, status: int = 200):
    enrollments = list(selectors.enrollment_list_for_learner(learner=request.user))
    # A certificate is issued to a name: at 100 % a learner without one is asked for it here. The form is
    # in the page (hidden) for every nameless learner, so the page's script can show it when a bar
    # reaches 100 % while the learner watches.
    nameless = not request.user.full_name.strip()
    needs_name = nameless and any(e.status == Enrollment.Status.COMPLETED for e in enrollments)
    context = {
        "enrollments": enrollments,
        "nameless": nameless,
        "needs_name": needs_name,
        "name_form": name_form or CertificateNameForm(),
    }
    return render(request, "enrollments/dashboard.html", context, status=status)


@login_required
@require_safe
def dashboard(request):
    return _dashboard(request)


@login_required
@require_POST
def dashboard_name(request):
    """The dashboard's "your name for the certificate" form; saving it queues the waiting certificates."""
    form = CertificateNameForm(request.POST)
    if not form.is_valid():
        return _dashboard(request, name_form=form, status=400)
    account_services.user_update_profile(user=request.user, full_name=form.cleaned_data["full_name"])
    messages.success(request, f"Thank you. Your certificate is being prepared for {form.cleaned_data['full_name']}.")
    return redirect("dashboard")


@staff_permission_required("enrollments.recompute_coursestats")
@require_POST
def course_analytics_recompute(request, slug: str):
    """Staff's "recompute now": analytics of one course, in the background."""
    course = get_object_or_404(Course, slug=slug)
    services.course_stats_request_recompute(course_ids=[course.pk])
    messages.success(request, "Recomputing the analytics; refresh in a moment.")
    return redirect("course_analytics", slug=course.slug)


@staff_permission_required("enrollments.view_coursestats")
@require_safe
def course_analytics(request, slug: str):
    course = get_object_or_404(Course, slug=slug)
    stats = services.course_stats_get_or_compute(course_id=course.pk)
    deciles = list(stats.progress_deciles) if stats.progress_deciles else [0] * 10
    peak = max(deciles) or 1
    bars = []
    for i, count in enumerate(deciles):
        height = round(count * 180 / peak)
        label = f"{i * 10}-{i * 10 + 9 if i < 9 else 100}%"
        bars.append({"label": label, "count": count, "height": height, "x": 40 + i * 56, "y": 200 - height})
    return render(request, "enrollments/course_analytics.html", {"course": course, "stats": stats, "bars": bars})


# --- Staff: bulk imports --------------------------------------------------------------------------


def import_upload_form(request) -> tuple[ImportUploadForm, object | None]:
    """The bound upload form of a POST (after the size limit was installed); on success, the new job.

    Shared by the staff page and the admin's add page: one form, one service.
    """
    limit = getattr(request, "_import_upload_limit", None)
    form = ImportUploadForm(request.POST, request.FILES, limit=limit)
    if not form.is_valid():
        return form, None
    try:
        job = imports.import_start(
            upload=form.cleaned_data["file"],
            uploaded_by=request.user,
            send_welcome=form.cleaned_data["send_welcome"],
        )
    except ValidationError as exc:
        for message in exc.message_dict.get("file", exc.messages):
            form.add_error("file", message)
        return form, None
    return form, job


def with_upload_limit(view):
    """Install the import size limit before the CSRF check (inside `view`) parses the request body."""

    @csrf_exempt
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            request._import_upload_limit = ImportUploadLimit.install(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@with_upload_limit
@csrf_protect
@staff_permission_required("enrollments.add_importjob")
@require_http_methods(["GET", "HEAD", "POST"])
def import_new(request):
    if request.method == "POST":
        form, job = import_upload_form(request)
        if job is not None:
            messages.success(request, f"“{job.original_name}” is uploaded; the import runs in the background.")
            return redirect("import_detail", pk=job.pk)
    else:
        form = ImportUploadForm()
    recent = selectors.import_list()[:10] if request.user.has_perm("enrollments.view_importjob") else []
    return render(request, "enrollments/imports/new.html", {"form": form, "recent": recent})


@staff_permission_required("enrollments.view_importjob")
@require_safe
def import_detail(request, pk: int):
    job = get_object_or_404(selectors.import_list(), pk=pk)
    return render(
        request,
        "enrollments/imports/detail.html",
        {
            "job": job,
            "progress": selectors.import_progress(import_job=job),
            "same_file": imports.import_same_file_earlier(import_job=job),
        },
    )


@staff_permission_required("enrollments.control_importjob")
@require_POST
def import_cancel(request, pk: int):
    job = get_object_or_404(selectors.import_list(), pk=pk)
    if imports.import_cancel(import_job=job):
        messages.info(request, "The import is cancelled; the rows it had already imported stay.")
    else:
        messages.info(request, "The import had already finished.")
    return redirect("import_detail", pk=job.pk)
