"""Least privilege for staff: every staff API operation and page needs its own permission.

One row per surface. Each is tried as staff with no permission (refused, nothing written), as view-only
staff (every `view_*` permission: reads work, writes are refused), and with exactly the permission the
row names (works). A new staff URL fails `test_every_staff_url_has_a_row` until it gets a row here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from certificates import services as certificate_services
from certificates.models import Certificate
from courses.models import Course
from enrollments import services as enrollment_services
from imports import services as imports
from imports.models import ImportJob
from jobs.models import Job, Operation
from notifications.models import WebhookDelivery, WebhookEndpoint
from reports import services as report_services
from reports.models import Report
from tests.certificates.conftest import completed_enrollment  # noqa: F401 - fixture
from tests.jobs.factories import UserFactory, grant, staff_with
from tests.notifications.factories_webhooks import WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks"  # an IP literal: the SSRF check needs no DNS


def csv_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("learners.csv", b"email,full_name,course\nann@example.org,Ann,python-101\n", "text/csv")


def the_course() -> Course:
    """The `objects` fixture's one course."""
    return Course.objects.get()


@dataclass(frozen=True)
class Surface:
    method: str
    url: str  # formatted with the ids of the `objects` fixture
    perm: str  # exactly what it needs
    reads: bool  # a read: view-only staff may use it
    ok: int = 200
    denied: int = 403  # 404 where even existence is private
    data: Callable[[], dict] = field(default=dict)
    format: str | None = None

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url}"


SURFACES = [
    # The webhook API
    Surface("get", "/api/webhooks/endpoints/", "notifications.view_webhookendpoint", reads=True),
    Surface(
        "post",
        "/api/webhooks/endpoints/",
        "notifications.add_webhookendpoint",
        reads=False,
        ok=201,
        data=lambda: {"url": PUBLIC_URL},
        format="json",
    ),
    Surface("get", "/api/webhooks/endpoints/{endpoint}/", "notifications.view_webhookendpoint", reads=True),
    Surface(
        "patch",
        "/api/webhooks/endpoints/{endpoint}/",
        "notifications.change_webhookendpoint",
        reads=False,
        data=lambda: {"description": "Changed"},
        format="json",
    ),
    Surface(
        "put",
        "/api/webhooks/endpoints/{endpoint}/",
        "notifications.change_webhookendpoint",
        reads=False,
        data=lambda: {"url": PUBLIC_URL, "description": "Replaced"},
        format="json",
    ),
    Surface("delete", "/api/webhooks/endpoints/{endpoint}/", "notifications.delete_webhookendpoint", False, ok=204),
    Surface("post", "/api/webhooks/endpoints/{endpoint}/test/", "notifications.change_webhookendpoint", False, ok=202),
    Surface("post", "/api/webhooks/endpoints/{endpoint}/rotate-secret/", "notifications.change_webhookendpoint", False),
    Surface("get", "/api/webhooks/deliveries/", "notifications.view_webhookdelivery", reads=True),
    Surface("get", "/api/webhooks/deliveries/{delivery}/", "notifications.view_webhookdelivery", reads=True),
    Surface(
        "post", "/api/webhooks/deliveries/{delivery}/redeliver/", "notifications.change_webhookdelivery", False, ok=202
    ),
    # Certificates: staff operations
    Surface(
        "post",
        "/api/certificates/{certificate}/revoke/",
        "certificates.change_certificate",
        reads=False,
        data=lambda: {"reason": "Issued in error"},
        format="json",
    ),
    Surface(
        "post",
        "/api/certificates/{certificate}/regenerate/",
        "certificates.change_certificate",
        reads=False,
        ok=202,
        data=dict,
        format="json",
    ),
    # The imports API
    Surface("get", "/api/imports/", "imports.view_importjob", reads=True),
    Surface(
        "post",
        "/api/imports/",
        "imports.add_importjob",
        reads=False,
        ok=202,
        data=lambda: {"file": csv_upload()},
        format="multipart",
    ),
    Surface("get", "/api/imports/{job}/", "imports.view_importjob", reads=True),
    Surface("post", "/api/imports/{job}/cancel/", "imports.control_importjob", reads=False, ok=202),
    Surface("get", "/api/imports/{job}/errors.csv", "imports.view_importjob", reads=True),
    # Enrollments and certificates of others: staff (or integrations) who may view them; for anyone else
    # they do not exist
    Surface("get", "/api/enrollments/{enrollment}/", "enrollments.view_enrollment", True, denied=404),
    Surface("get", "/api/certificates/{certificate}/", "certificates.view_certificate", True, denied=404),
    Surface("get", "/api/certificates/{certificate}/pdf/", "certificates.view_certificate", True, denied=404),
    Surface("get", "/certificates/{certificate}/pdf/", "certificates.view_certificate", True, denied=404),
    Surface("get", "/staff/certificates/{certificate}/pdf/", "certificates.view_certificate", reads=True),
    # Staff pages
    Surface("get", "/staff/courses/{course}/analytics/", "enrollments.view_coursestats", reads=True),
    Surface("post", "/staff/courses/{course}/analytics/recompute/", "enrollments.recompute_coursestats", False, ok=302),
    Surface("get", "/staff/imports/new/", "imports.add_importjob", reads=False),
    Surface("post", "/staff/imports/new/", "imports.add_importjob", False, ok=302, data=lambda: {"file": csv_upload()}),
    Surface("get", "/staff/imports/{job}/", "imports.view_importjob", reads=True),
    Surface("post", "/staff/imports/{job}/cancel/", "imports.control_importjob", reads=False, ok=302),
    # Long operations, reports, the course recompute
    Surface("get", "/api/operations/", "imports.view_importjob", reads=True),
    Surface("get", "/api/operations/{operation}/", "imports.view_importjob", reads=True),
    Surface("post", "/api/operations/{operation}/cancel/", "imports.control_importjob", reads=False, ok=202),
    Surface("get", "/staff/operations/{operation}/", "imports.view_importjob", reads=True),
    Surface("post", "/staff/operations/{operation}/cancel/", "imports.control_importjob", reads=False, ok=302),
    Surface("get", "/api/reports/", "reports.view_report", reads=True),
    Surface(
        "post",
        "/api/reports/",
        "reports.add_report",
        reads=False,
        ok=202,
        data=lambda: {"kind": "course_progress", "course": the_course().slug},
    ),
    Surface("get", "/api/reports/{report}/", "reports.view_report", reads=True),
    Surface("get", "/api/reports/{report}/download/", "reports.view_report", reads=True),
    Surface("get", "/staff/reports/{report}/download/", "reports.view_report", reads=True),
    Surface("post", "/api/courses/{course}/recompute/", "enrollments.recompute_coursestats", False, ok=202),
    Surface("get", "/staff/courses/{course}/learners/", "enrollments.view_enrollment", reads=True),
    Surface("get", "/staff/courses/{course}/learners/{enrollment}/", "enrollments.view_enrollment", reads=True),
    # Pages of our own in the admin
    Surface("get", "/admin/jobs/job/operations/", "jobs.view_operations", reads=True),
    Surface("get", "/admin/imports/importjob/add/", "imports.add_importjob", reads=False),
    Surface(
        "post",
        "/admin/imports/importjob/add/",
        "imports.add_importjob",
        reads=False,
        ok=302,
        data=lambda: {"file": csv_upload()},
    ),
    Surface("get", "/admin/reports/report/add/", "reports.add_report", reads=False),
    Surface(
        "post",
        "/admin/reports/report/add/",
        "reports.add_report",
        reads=False,
        ok=302,
        data=lambda: {"kind": "course_progress", "course": the_course().pk, "format": "csv"},
    ),
]


@pytest.fixture
def objects(completed_enrollment):  # noqa: F811 - the imported fixture
    """One of everything a staff surface is about; `course` is the learner's, the certificate too."""
    enrollment = completed_enrollment
    enrollment_services.course_stats_recompute(course_id=enrollment.course_id)
    job = imports.import_start(upload=csv_upload(), uploaded_by=None, send_welcome=False)
    certificate = certificate_services.certificate_issue(enrollment_id=enrollment.pk)
    endpoint = WebhookEndpointFactory()
    delivery = WebhookDeliveryFactory(endpoint=endpoint, event__enrollment=enrollment)
    report, _ = report_services.report_request(
        kind="course_progress", course=enrollment.course, requested_by=staff_with(email="reporter@example.com")
    )
    report = report_services.report_generate(report_id=report.pk)
    yield {
        "course": enrollment.course.slug,
        "enrollment": enrollment.pk,
        "job": job.pk,
        "certificate": certificate.pk,
        "endpoint": endpoint.pk,
        "delivery": delivery.pk,
        "learner": enrollment.learner.email,
        "operation": job.operation_id,
        "report": report.pk,
    }
    report.file.delete(save=False)


def written() -> tuple:
    """What the writes of the table change."""
    return (
        list(WebhookEndpoint.objects.order_by("pk").values_list("pk", "description", "url", "secret")),
        list(WebhookDelivery.objects.order_by("pk").values_list("pk", "status", "attempts", "updated_at")),
        list(Certificate.objects.order_by("pk").values_list("pk", "status")),
        list(ImportJob.objects.order_by("pk").values_list("pk", "cancel_requested_at")),
        Job.objects.count(),
        list(Operation.objects.order_by("pk").values_list("pk", "state")),
        Report.objects.count(),
    )


def call(api_client, user, surface: Surface, objects: dict):
    api_client.force_login(user)
    # Pages take forms; the API takes JSON (APIClient's default in tests.settings).
    body_format = surface.format or ("json" if surface.url.startswith("/api/") else "multipart")
    return getattr(api_client, surface.method)(surface.url.format(**objects), surface.data(), format=body_format)


def view_only_staff():
    user = staff_with(email="viewer@example.com")
    codenames = Permission.objects.filter(codename__startswith="view_").select_related("content_type")
    return grant(user, *(f"{p.content_type.app_label}.{p.codename}" for p in codenames))


@pytest.mark.parametrize("surface", SURFACES, ids=str)
def test_staff_without_permissions_is_refused_and_nothing_changes(api_client, objects, surface):
    before = written()
    response = call(api_client, staff_with(email="nobody@example.com"), surface, objects)
    assert response.status_code == surface.denied
    assert written() == before
    assert objects["learner"] not in response.content.decode(errors="replace")  # deliveries carry emails


@pytest.mark.parametrize("surface", SURFACES, ids=str)
def test_view_only_staff_may_read_but_not_change(api_client, objects, surface):
    before = written()
    response = call(api_client, view_only_staff(), surface, objects)
    if surface.reads:
        assert response.status_code == surface.ok
    else:
        assert response.status_code == surface.denied
        assert written() == before


@pytest.mark.parametrize("surface", SURFACES, ids=str)
def test_the_named_permission_alone_is_enough(api_client, objects, surface):
    response = call(api_client, staff_with(surface.perm, email="exact@example.com"), surface, objects)
    assert response.status_code == surface.ok


def test_a_webhook_endpoint_s_secret_is_shown_only_to_those_who_may_change_it(api_client, objects):
    url = f"/api/webhooks/endpoints/{objects['endpoint']}/"
    api_client.force_login(staff_with("notifications.view_webhookendpoint", email="support@example.com"))
    body = api_client.get(url).json()
    assert body["url"] and "secret" not in body
    integrator = staff_with(
        "notifications.view_webhookendpoint", "notifications.change_webhookendpoint", email="integrator@example.com"
    )
    api_client.force_login(integrator)
    assert api_client.get(url).json()["secret"] == WebhookEndpoint.objects.get().secret


def _staff_routes(resolver: URLResolver = None, prefix: str = ""):
    """(route, url name) of every URL pattern outside Django's own admin views."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _staff_routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name


STAFF_ROUTE_PREFIXES = ("api/webhooks/", "api/imports/", "api/operations/", "api/reports/", "staff/")
OWN_ADMIN_VIEWS = {"jobs_operations", "imports_importjob_add", "reports_report_add"}
STAFF_API_VIEWS = {"api-certificate-revoke", "api-certificate-regenerate", "api-course-recompute"}


def test_every_staff_url_has_a_row():
    ids = ("enrollment", "job", "certificate", "endpoint", "delivery", "operation", "report")
    sample = {"course": "python-101", **dict.fromkeys(ids, 1)}
    covered = {resolve(s.url.format(**sample)).url_name for s in SURFACES}
    staff_names = {
        name
        for route, name in _staff_routes()
        if route.startswith(STAFF_ROUTE_PREFIXES) or name in OWN_ADMIN_VIEWS | STAFF_API_VIEWS
    }
    assert staff_names and staff_names <= covered, f"staff URLs without a row: {sorted(staff_names - covered)}"


def test_the_endpoint_admin_page_shows_the_secret_only_to_those_who_may_change_it(client, objects):
    endpoint = WebhookEndpoint.objects.get()
    url = f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/"
    client.force_login(view_only_staff())
    page = client.get(url).content.decode()
    assert endpoint.url in page and endpoint.secret not in page
    client.force_login(staff_with("notifications.change_webhookendpoint", email="integrator@example.com"))
    assert endpoint.secret in client.get(url).content.decode()


def test_staff_who_may_change_users_cannot_grant_rights_their_own_included(client):
    support = staff_with("accounts.view_user", "accounts.change_user", email="support@example.com")
    client.force_login(support)
    form = {
        "email": support.email,
        "full_name": "Promoted",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "user_permissions": [Permission.objects.get(codename="add_webhookendpoint").pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/accounts/user/{support.pk}/change/", form)
    assert response.status_code == 302  # saved: the profile may change
    support.refresh_from_db()
    assert support.full_name == "Promoted"
    assert not support.is_superuser and not support.user_permissions.filter(codename="add_webhookendpoint").exists()


def test_a_disabled_endpoint_is_mailed_only_to_staff_who_may_change_endpoints():
    from notifications.services.email import email_send

    endpoint = WebhookEndpointFactory()
    integrator = staff_with("notifications.change_webhookendpoint", email="integrator@example.com")
    staff_with("notifications.view_webhookdelivery", email="support@example.com")
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)

    sent = email_send(kind="webhook_endpoint_disabled", object_id=endpoint.pk, nonce="now")
    assert sorted(n.recipient for n in sent) == sorted([integrator.email, root.email])


def test_staff_who_may_change_users_cannot_take_over_a_superuser(client):
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    learner = UserFactory(email="learner@example.com")
    client.force_login(staff_with("accounts.view_user", "accounts.change_user", email="support@example.com"))

    password = client.post(
        f"/admin/accounts/user/{root.pk}/password/", {"password1": "Taken-over-9876", "password2": "Taken-over-9876"}
    )
    change = client.post(f"/admin/accounts/user/{root.pk}/change/", {"email": "mine@example.com"})

    assert password.status_code == 403 and change.status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.com" and not root.check_password("Taken-over-9876")
    assert client.get(f"/admin/accounts/user/{learner.pk}/change/").status_code == 200  # learners: still theirs
