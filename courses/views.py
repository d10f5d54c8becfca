from django.shortcuts import render
from django.views.decorators.http import require_safe

from courses import selectors


@require_safe
def catalog(request):
    return render(request, "courses/catalog.html", {"courses": selectors.course_list_published()})
