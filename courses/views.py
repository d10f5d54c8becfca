from django.shortcuts import render
from django.views.decorators.http import require_GET

from courses import selectors


@require_GET
def catalog(request):
    return render(request, "courses/catalog.html", {"courses": selectors.course_list_published()})
