"""The staff webhook API and admin: who may use them, what they answer, and the SSRF guard at save."""

import socket

import pytest
from django.test import Client

from notifications.admin.webhooks import WebhookEndpointForm
from notifications.models import WebhookDelivery, WebhookEndpoint
from tests.jobs.factories import UserFactory, staff_with
from tests.notifications.factories_webhooks import (
    WebhookAttemptFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from tests.utils import field_errors

# Until lms/urls.py includes the webhook API, this module serves as the URLconf with it added; once it
# does, the addition is never reached (the project's own pattern matches first).
pytestmark = [pytest.mark.django_db]

UNSAFE_URLS = [
    "http://127.0.0.1/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[fec0::1]/hook",  # IPv6 site-local
    "https://internal.example/hook",
]
WEBHOOK_PERMS = [
    "notifications.view_webhookendpoint",
    "notifications.add_webhookendpoint",
    "notifications.change_webhookendpoint",
    "notifications.delete_webhookendpoint",
    "notifications.view_webhookdelivery",
]
REAL_GETADDRINFO = socket.getaddrinfo
PUBLIC_URL = "https://93.184.216.34/hooks"  # an IP literal: no DNS needed


@pytest.fixture
def no_loopback(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "internal.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.7.7", port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.fixture
def staff_client(api_client):
    api_client.force_authenticate(staff_with(*WEBHOOK_PERMS))
    return api_client


@pytest.fixture
def admin_browser():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


# --- API ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/webhooks/endpoints/"),
        ("post", "/api/webhooks/endpoints/"),
        ("get", "/api/webhooks/endpoints/{endpoint}/"),
        ("delete", "/api/webhooks/endpoints/{endpoint}/"),
        ("get", "/api/webhooks/deliveries/"),
        ("get", "/api/webhooks/deliveries/{delivery}/"),
    ],
)
def test_a_learner_gets_403_from_every_webhook_api(api_client, method, path):
    delivery = WebhookDeliveryFactory()
    api_client.force_authenticate(UserFactory())

    response = getattr(api_client, method)(path.format(endpoint=delivery.endpoint_id, delivery=delivery.pk))

    assert response.status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_an_anonymous_client_is_asked_to_authenticate(api_client):
    assert api_client.get("/api/webhooks/endpoints/").status_code == 401


def test_staff_create_an_endpoint_and_get_its_secret_once_in_the_answer(staff_client):
    response = staff_client.post(
        "/api/webhooks/endpoints/",
        {"url": PUBLIC_URL, "description": "CRM", "event_types": ["enrollment.created"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["id"] == endpoint.pk and body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert body["event_types"] == ["enrollment.created"] and body["is_active"] is True
    assert "secret" not in staff_client.get("/api/webhooks/endpoints/").json()["results"][0]
    assert staff_client.get(f"/api/webhooks/endpoints/{endpoint.pk}/").json()["secret"] == endpoint.secret


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_an_unsafe_url_is_a_400_with_a_message_on_url(staff_client, no_loopback, url):
    response = staff_client.post("/api/webhooks/endpoints/", {"url": url}, format="json")

    assert response.status_code == 400
    assert "public addresses" in field_errors(response)["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_an_update_to_an_unsafe_url_is_a_400(staff_client, no_loopback):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL)

    response = staff_client.patch(f"/api/webhooks/endpoints/{endpoint.pk}/", {"url": "http://10.0.0.1/"}, format="json")

    assert response.status_code == 400 and "url" in field_errors(response)
    endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC_URL


def test_unknown_event_types_are_a_400(staff_client):
    response = staff_client.post(
        "/api/webhooks/endpoints/", {"url": PUBLIC_URL, "event_types": ["user.deleted"]}, format="json"
    )
    assert response.status_code == 400 and "event_types.0" in field_errors(response)


def test_re_activating_a_disabled_endpoint_clears_its_failures(staff_client):
    endpoint = WebhookEndpointFactory(
        url=PUBLIC_URL, is_active=False, consecutive_failures=20, disabled_at="2026-01-01T00:00:00Z"
    )

    response = staff_client.patch(f"/api/webhooks/endpoints/{endpoint.pk}/", {"is_active": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["is_active"], body["consecutive_failures"], body["disabled_at"]) == (True, 0, None)


def test_staff_delete_an_endpoint(staff_client):
    endpoint = WebhookEndpointFactory()
    assert staff_client.delete(f"/api/webhooks/endpoints/{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_filter_by_status_and_endpoint(staff_client):
    wanted = WebhookDeliveryFactory(status="failed")
    WebhookDeliveryFactory(status="failed")
    WebhookDeliveryFactory(status="succeeded", endpoint=wanted.endpoint)

    response = staff_client.get(f"/api/webhooks/deliveries/?status=failed&endpoint={wanted.endpoint_id}")

    assert response.status_code == 200, response.content
    assert [d["id"] for d in response.json()["results"]] == [wanted.pk]
    assert staff_client.get("/api/webhooks/deliveries/?status=lost").status_code == 400


def test_a_delivery_shows_its_payload_and_attempts(staff_client):
    attempt = WebhookAttemptFactory(status_code=503, response_excerpt="busy")

    body = staff_client.get(f"/api/webhooks/deliveries/{attempt.delivery_id}/").json()

    assert body["event_id"] == attempt.delivery.event.event_id
    assert body["payload"] == attempt.delivery.event.payload
    assert [(a["status_code"], a["response_excerpt"]) for a in body["attempts_log"]] == [(503, "busy")]


def test_the_delivery_list_query_count_does_not_grow_with_rows(staff_client, django_assert_max_num_queries):
    for _ in range(15):
        WebhookDeliveryFactory()
    with django_assert_max_num_queries(6):
        assert len(staff_client.get("/api/webhooks/deliveries/").json()["results"]) == 15


# --- Admin ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_the_admin_form_refuses_unsafe_urls(no_loopback, url):
    form = WebhookEndpointForm(data={"url": url, "description": "", "is_active": True})
    assert not form.is_valid()
    assert "public addresses" in form.errors["url"][0]


def test_staff_add_an_endpoint_in_the_admin_and_see_its_secret(admin_browser):
    response = admin_browser.post(
        "/admin/notifications/webhookendpoint/add/",
        {"url": PUBLIC_URL, "description": "CRM", "event_types": ["certificate.issued"], "is_active": "on"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["certificate.issued"]
    page = admin_browser.get(f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret in page


def test_the_admin_add_page_refuses_an_unsafe_url(admin_browser, no_loopback):
    response = admin_browser.post("/admin/notifications/webhookendpoint/add/", {"url": "http://169.254.169.254/"})
    assert response.status_code == 200, response.content
    assert "link-local address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_endpoint_page_lists_only_its_latest_20_deliveries(admin_browser, django_assert_max_num_queries):
    endpoint = WebhookEndpointFactory()
    deliveries = [WebhookDeliveryFactory(endpoint=endpoint) for _ in range(25)]
    WebhookDeliveryFactory()  # another endpoint's

    with django_assert_max_num_queries(20):
        page = admin_browser.get(f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/").content.decode()

    shown = [d for d in deliveries if f"/admin/notifications/webhookdelivery/{d.pk}/change/" in page]
    assert shown == deliveries[5:]


def test_the_send_test_event_action_queues_a_test_delivery(admin_browser, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory()

    with django_capture_on_commit_callbacks() as queued:
        response = admin_browser.post(
            "/admin/notifications/webhookendpoint/",
            {"action": "send_test_event", "_selected_action": [endpoint.pk]},
            follow=True,
        )

    assert "Test event queued for 1 endpoint" in response.content.decode()
    assert WebhookDelivery.objects.get().event.event_type == "webhook.test"
    assert len(queued) == 1


def test_the_redeliver_action_requeues_failed_deliveries_and_skips_succeeded_ones(
    admin_browser, django_capture_on_commit_callbacks
):
    failed = WebhookDeliveryFactory(status="failed", attempts=8)
    succeeded = WebhookDeliveryFactory(status="succeeded")

    with django_capture_on_commit_callbacks() as queued:
        response = admin_browser.post(
            "/admin/notifications/webhookdelivery/",
            {"action": "redeliver", "_selected_action": [failed.pk, succeeded.pk]},
            follow=True,
        )

    page = response.content.decode()
    assert "1 delivery(ies) queued again" in page and "1 skipped" in page
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert len(queued) == 1


def test_the_delivery_list_and_pages_render_with_bounded_queries(admin_browser, django_assert_max_num_queries):
    attempt = WebhookAttemptFactory()
    for _ in range(10):
        WebhookDeliveryFactory(endpoint=attempt.delivery.endpoint)

    with django_assert_max_num_queries(15):
        assert admin_browser.get("/admin/notifications/webhookdelivery/?status__exact=pending").status_code == 200
    assert admin_browser.get(f"/admin/notifications/webhookdelivery/{attempt.delivery_id}/change/").status_code == 200
    assert (
        admin_browser.get(f"/admin/notifications/webhookevent/{attempt.delivery.event_id}/change/").status_code == 200
    )
