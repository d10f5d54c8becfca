from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lms.startup import check_broker, check_database


@require_GET
def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker answer; 503 naming the one that does not."""
    problems = {name: problem for name, problem in (("database", check_database()), ("broker", check_broker(1.0)))}
    failing = {name: problem for name, problem in problems.items() if problem}
    body = {"status": "ok" if not failing else "unavailable"}
    body.update({name: (problem if problem else "ok") for name, problem in problems.items()})
    return JsonResponse(body, status=200 if not failing else 503)


def rate_limited(request, exception):
    """django-ratelimit's answer: 429 with a page that says when to try again."""
    return render(request, "429.html", status=429)
