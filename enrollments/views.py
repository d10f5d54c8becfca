"""Learner pages about the learner's own enrollments: enrolling, lessons, the dashboard; staff analytics."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts import services as account_services
from accounts.forms import CertificateNameForm
from core.permissions import staff_permission_required
from courses import selectors as course_selectors
from courses.models import Course, Lesson
from enrollments import selectors, services
from enrollments.models import Enrollment


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
    # The page shows the figures as they are now (one aggregate query); the stored row is what the
    # nightly run and "Recompute now" keep for the admin's list.
    stats = selectors.course_figures(course_id=course.pk)
    deciles = stats.progress_deciles
    peak = max(deciles) or 1
    bars = []
    for i, count in enumerate(deciles):
        height = round(count * 180 / peak)
        label = f"{i * 10}-{i * 10 + 9 if i < 9 else 100}%"
        bars.append({"label": label, "count": count, "height": height, "x": 40 + i * 56, "y": 200 - height})
    return render(request, "enrollments/course_analytics.html", {"course": course, "stats": stats, "bars": bars})
