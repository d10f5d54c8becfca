from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from courses import selectors, viewers
from courses.models import Course


@require_safe
def catalog(request):
    return render(request, "courses/catalog.html", {"courses": selectors.course_list_published()})


@require_safe
def course_detail(request, slug: str):
    """A published course and its syllabus; the viewer's panel (enroll, progress, continue) comes from
    the app that knows about the viewer (courses.viewers)."""
    try:
        course = selectors.course_get_published(slug=slug)
    except Course.DoesNotExist:
        raise Http404 from None
    viewer = viewers.course_page(request=request, course=course)
    return render(request, "courses/course_detail.html", {"course": course, "viewer": viewer})
