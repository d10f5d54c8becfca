"""The site's own pages: home, the favicon, and the error views that answer JSON under /api/ and HTML elsewhere."""

from functools import cache
from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import csrf, defaults
from django.views.decorators.http import require_safe

from core.errors import SERVER_ERROR_DETAIL, error_body

API_PREFIX = "/api/"


@require_safe
def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


@cache
def _favicon_bytes() -> bytes:
    return (Path(__file__).resolve().parent / "static" / "core" / "favicon.svg").read_bytes()


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for on every page whatever the <link rel="icon"> says."""
    response = HttpResponse(_favicon_bytes(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# Django's error views answer HTML. Under /api/ a client expects JSON whatever failed (an unknown URL, a
# crash, a CSRF refusal outside DRF), in the one shape of the API's own errors (core/errors.py), with the
# codes DRF gives the same errors.


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(code=code, detail=detail, status=status), status=status)


def rate_limited(request, exception):
    """django-ratelimit's answer: 429 with a page that says when to try again."""
    if _is_api(request):
        return _api_error(429, "throttled", "Request was throttled.")
    return render(request, "429.html", status=429)


def bad_request(request, exception):
    if _is_api(request):
        return _api_error(400, "bad_request", "Bad request.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return _api_error(403, "permission_denied", "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return _api_error(404, "not_found", "Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _api_error(500, "error", SERVER_ERROR_DETAIL)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return _api_error(403, "permission_denied", f"CSRF Failed: {reason}")
    return csrf.csrf_failure(request, reason)
