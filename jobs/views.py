"""Health and metrics endpoints: /healthz for load balancers, /healthz/detail and /metrics for monitors."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.reachability import check_broker, check_database


@never_cache
@require_safe
def healthz(request):
    """200 when the database and the broker answer; 503 naming the one that does not."""
    problems = {name: problem for name, problem in (("database", check_database()), ("broker", check_broker(1.0)))}
    failing = {name: problem for name, problem in problems.items() if problem}
    body = {"status": "ok" if not failing else "unavailable"}
    body.update({name: (problem if problem else "ok") for name, problem in problems.items()})
    return JsonResponse(body, status=200 if not failing else 503)


def _may_see_health(request) -> bool:
    import secrets

    from django.conf import settings

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if settings.HEALTH_TOKEN and scheme.lower() == "bearer":
        return secrets.compare_digest(token.strip().encode(), settings.HEALTH_TOKEN.encode())
    return request.user.is_authenticated and request.user.has_perm("jobs.view_operations")


@never_cache
@require_safe
def healthz_detail(request):
    """Every health check (jobs.health) with the figure that decided it, and every process's heartbeat.

    For staff with jobs.view_operations and for monitors holding HEALTH_TOKEN (Authorization: Bearer).
    503 when a check is in error, so a monitor that reads only the status still pages. It describes the
    whole system, not this web process: not a readiness probe for web (use /healthz).
    """
    from jobs.health import ERROR, health_checks, heartbeats_with_age, worst

    if not _may_see_health(request):
        status = 403 if request.user.is_authenticated else 401
        response = JsonResponse({"detail": "Staff with jobs.view_operations, or the HEALTH_TOKEN."}, status=status)
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

    from jobs import metrics as lms_metrics

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
