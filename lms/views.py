from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import csrf, defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from lms.errors import SERVER_ERROR_DETAIL, error_body
from lms.startup import check_broker, check_database

API_PREFIX = "/api/"


@require_safe
def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


@never_cache
@require_safe
def healthz(request):
    """200 when the database and the broker answer; 503 naming the one that does not."""
    problems = {name: problem for name, problem in (("database", check_database()), ("broker", check_broker(1.0)))}
    failing = {name: problem for name, problem in problems.items() if problem}
    body = {"status": "ok" if not failing else "unavailable"}
    body.update({name: (problem if problem else "ok") for name, problem in problems.items()})
    return JsonResponse(body, status=200 if not failing else 503)


@cache
def _favicon_bytes() -> bytes:
    return (Path(__file__).resolve().parent / "static" / "lms" / "favicon.svg").read_bytes()


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for on every page whatever the <link rel="icon"> says."""
    response = HttpResponse(_favicon_bytes(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _may_see_health(request) -> bool:
    import secrets

    from django.conf import settings

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if settings.HEALTH_TOKEN and scheme.lower() == "bearer":
        return secrets.compare_digest(token.strip().encode(), settings.HEALTH_TOKEN.encode())
    return request.user.is_authenticated and request.user.has_perm("lms.view_operations")


@never_cache
@require_safe
def healthz_detail(request):
    """Every health check (lms.health) with the figure that decided it, and every process's heartbeat.

    For staff with lms.view_operations and for monitors holding HEALTH_TOKEN (Authorization: Bearer).
    503 when a check is in error, so a monitor that reads only the status still pages. It describes the
    whole system, not this web process: not a readiness probe for web (use /healthz).
    """
    from lms.health import ERROR, health_checks, heartbeats_with_age, worst

    if not _may_see_health(request):
        status = 403 if request.user.is_authenticated else 401
        response = JsonResponse({"detail": "Staff with lms.view_operations, or the HEALTH_TOKEN."}, status=status)
        response["WWW-Authenticate"] = "Bearer"
        return response
    checks = health_checks()
    status = worst(checks)
    body = {"status": status, "checks": [c.as_dict() for c in checks], "heartbeats": heartbeats_with_age()}
    return JsonResponse(body, status=503 if status == ERROR else 200)


@never_cache
@require_safe
def metrics(request):
    """Prometheus metrics for a scraper holding METRICS_TOKEN or calling from METRICS_ALLOWED_IPS.

    With neither setting the endpoint does not exist (404); a scraper refused by them gets 403."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from lms import metrics as lms_metrics

    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        raise Http404("metrics are off")
    if not lms_metrics.allowed(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        authorization=request.headers.get("Authorization", ""),
        token=settings.METRICS_TOKEN,
        allowed_ips=settings.METRICS_ALLOWED_IPS,
    ):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(lms_metrics.scrape(), content_type=CONTENT_TYPE_LATEST)


# Django's error views answer HTML. Under /api/ a client expects JSON whatever failed (an unknown URL, a
# crash, a CSRF refusal outside DRF), in the one shape of the API's own errors (lms/errors.py), with the
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
