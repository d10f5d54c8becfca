"""The webhook endpoint API as an outside client meets it: create, replace, change, test, redeliver and
deliveries with their attempts. Bad input is a 400 with field messages, a form body a 415; never a 500."""

import pytest
from standardwebhooks.webhooks import Webhook

from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.services import webhooks as services
from tests.jobs.factories import staff_with
from tests.notifications.factories_webhooks import (
    WebhookAttemptFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from tests.notifications.webhook_receiver import Reply, receiver_fixture  # noqa: F401 - the `receiver` fixture
from tests.utils import error_detail, field_errors

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks"  # an IP literal: no DNS needed
OTHER_URL = "https://93.184.216.35/hooks"
WEBHOOK_PERMS = [
    "notifications.view_webhookendpoint",
    "notifications.add_webhookendpoint",
    "notifications.change_webhookendpoint",
    "notifications.delete_webhookendpoint",
    "notifications.view_webhookdelivery",
    "notifications.change_webhookdelivery",
]


@pytest.fixture
def staff_client(api_client):
    api_client.force_authenticate(staff_with(*WEBHOOK_PERMS))
    return api_client


def endpoint_url(endpoint: WebhookEndpoint, action: str = "") -> str:
    return f"/api/webhooks/endpoints/{endpoint.pk}/{action}"


# --- Create ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("is_active", [True, False])
def test_create_accepts_is_active(staff_client, is_active):
    response = staff_client.post("/api/webhooks/endpoints/", {"url": PUBLIC_URL, "is_active": is_active}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is is_active
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.is_active is is_active
    assert (endpoint.disabled_at is None) is is_active


@pytest.mark.parametrize("fmt", ["multipart", None])  # None: application/x-www-form-urlencoded
def test_a_form_body_is_a_415_and_creates_nothing(staff_client, fmt):
    data = {"url": PUBLIC_URL, "description": "CRM"}
    if fmt:
        response = staff_client.post("/api/webhooks/endpoints/", data, format=fmt)
    else:
        response = staff_client.generic(
            "POST",
            "/api/webhooks/endpoints/",
            "url=https%3A%2F%2F93.184.216.34%2F",
            "application/x-www-form-urlencoded",
        )

    assert response.status_code == 415
    assert error_detail(response)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": PUBLIC_URL, "is_active": "maybe"}, "is_active"),
        ({"url": PUBLIC_URL, "event_types": "enrollment.created"}, "event_types"),
        ({"url": PUBLIC_URL, "event_types": ["user.deleted"]}, "event_types"),
        ({"url": PUBLIC_URL, "description": "x" * 201}, "description"),
        ({"url": PUBLIC_URL, "secret": "whsec_" + "A" * 44}, "secret"),
        ({"url": PUBLIC_URL, "evnt_types": ["enrollment.created"]}, "evnt_types"),
    ],
)
def test_bad_create_input_is_a_400_naming_the_field(staff_client, body, field):
    response = staff_client.post("/api/webhooks/endpoints/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in {attr.split(".")[0] for attr in field_errors(response)}  # a list item is "event_types.0"
    assert not WebhookEndpoint.objects.exists()


def test_a_json_body_that_is_not_an_object_is_a_400(staff_client):
    response = staff_client.post("/api/webhooks/endpoints/", [PUBLIC_URL], format="json")
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


# --- PUT and PATCH --------------------------------------------------------------------------------


def test_a_form_put_is_a_415_and_leaves_the_endpoint_active(staff_client):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL, description="CRM")

    response = staff_client.put(endpoint_url(endpoint), {"url": PUBLIC_URL, "description": "New"}, format="multipart")

    assert response.status_code == 415
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.description) == (True, "", "CRM")


def test_put_replaces_every_writable_field_and_omitted_ones_take_their_defaults(staff_client):
    endpoint = WebhookEndpointFactory(
        url=PUBLIC_URL,
        description="CRM",
        event_types=["certificate.issued"],
        is_active=False,
        disabled_at="2026-01-01T00:00:00Z",
        consecutive_failures=20,
    )

    response = staff_client.put(endpoint_url(endpoint), {"url": OTHER_URL}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["url"], body["description"], body["event_types"], body["is_active"]) == (OTHER_URL, "", [], True)
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.event_types, endpoint.is_active) == (OTHER_URL, "", [], True)
    assert (endpoint.disabled_at, endpoint.consecutive_failures) == (None, 0)


def test_put_without_the_url_is_a_400_and_changes_nothing(staff_client):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL, description="CRM")

    response = staff_client.put(endpoint_url(endpoint), {"description": "New"}, format="json")

    assert response.status_code == 400
    assert "url" in field_errors(response)
    endpoint.refresh_from_db()
    assert endpoint.description == "CRM"


def test_put_of_what_get_answered_is_accepted_except_the_secret(staff_client):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL, event_types=["enrollment.created"])
    read = staff_client.get(endpoint_url(endpoint)).json()

    with_secret = staff_client.put(endpoint_url(endpoint), {**read, "description": "New"}, format="json")
    read.pop("secret")
    without = staff_client.put(endpoint_url(endpoint), {**read, "description": "New"}, format="json")

    assert with_secret.status_code == 400 and "secret" in field_errors(with_secret)
    assert without.status_code == 200, without.content
    assert without.json()["event_types"] == ["enrollment.created"] and without.json()["description"] == "New"


def test_patch_changes_only_the_fields_it_names(staff_client):
    endpoint = WebhookEndpointFactory(
        url=PUBLIC_URL, description="CRM", event_types=["certificate.issued"], is_active=False
    )

    response = staff_client.patch(endpoint_url(endpoint), {"description": "Warehouse"}, format="json")

    assert response.status_code == 200, response.content
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.event_types, endpoint.is_active) == (
        PUBLIC_URL,
        "Warehouse",
        ["certificate.issued"],
        False,
    )


def test_patch_false_disables_by_staff(staff_client):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL)

    body = staff_client.patch(endpoint_url(endpoint), {"is_active": False}, format="json").json()

    assert (body["is_active"], body["disabled_reason"]) == (False, "Disabled by staff.")
    assert body["disabled_at"] is not None


def test_patch_with_a_secret_is_a_400_and_keeps_the_secret(staff_client):
    endpoint = WebhookEndpointFactory(url=PUBLIC_URL)
    secret = endpoint.secret

    response = staff_client.patch(endpoint_url(endpoint), {"secret": "whsec_" + "A" * 44}, format="json")

    assert response.status_code == 400
    assert "rotate-secret" in field_errors(response)["secret"][0]
    endpoint.refresh_from_db()
    assert endpoint.secret == secret


def test_writes_to_a_missing_endpoint_are_404(staff_client):
    missing = "/api/webhooks/endpoints/999999/"
    assert staff_client.patch(missing, {"description": "x"}, format="json").status_code == 404
    assert staff_client.put(missing, {"url": PUBLIC_URL}, format="json").status_code == 404
    assert staff_client.delete(missing).status_code == 404
    assert staff_client.post(missing + "test/").status_code == 404
    assert staff_client.post(missing + "rotate-secret/").status_code == 404
    assert staff_client.post("/api/webhooks/deliveries/999999/redeliver/").status_code == 404


# --- Test events ----------------------------------------------------------------------------------


def test_a_test_event_is_queued_and_reaches_the_receiver_signed(
    staff_client, receiver, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(url=receiver.url)

    with django_capture_on_commit_callbacks() as queued:
        response = staff_client.post(endpoint_url(endpoint, "test/"))

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["event_type"], body["status"], body["endpoint"]) == ("webhook.test", "pending", endpoint.pk)
    assert len(queued) == 1  # the delivery task, published after commit through jobs.enqueue.enqueue
    services.webhook_deliver(delivery_id=body["id"])  # what the queued task runs
    [request] = receiver.requests
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test" and payload["data"]["endpoint_id"] == endpoint.pk
    assert staff_client.get(f"/api/webhooks/deliveries/{body['id']}/").json()["status"] == "succeeded"


def test_a_test_event_to_a_disabled_endpoint_is_a_409(staff_client):
    endpoint = WebhookEndpointFactory(is_active=False)

    response = staff_client.post(endpoint_url(endpoint, "test/"))

    assert response.status_code == 409
    assert "disabled" in error_detail(response)
    assert not WebhookDelivery.objects.exists()


# --- Deliveries -----------------------------------------------------------------------------------


def test_the_delivery_list_nests_each_delivery_s_attempts_and_is_paginated(staff_client):
    attempt = WebhookAttemptFactory(status_code=503, response_excerpt="busy")
    WebhookDeliveryFactory()

    body = staff_client.get("/api/webhooks/deliveries/?page_size=1").json()

    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    filtered = staff_client.get(f"/api/webhooks/deliveries/?endpoint={attempt.delivery.endpoint_id}").json()
    [delivery] = filtered["results"]
    assert [(a["status_code"], a["response_excerpt"]) for a in delivery["attempts_log"]] == [(503, "busy")]


def test_a_failed_delivery_is_redelivered_to_the_receiver(staff_client, receiver, django_capture_on_commit_callbacks):
    delivery = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(url=receiver.url), status="failed", attempts=8)

    with django_capture_on_commit_callbacks() as queued:
        response = staff_client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver/")

    assert response.status_code == 202, response.content
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    assert len(queued) == 1
    services.webhook_deliver(delivery_id=delivery.pk)
    assert len(receiver.requests) == 1
    body = staff_client.get(f"/api/webhooks/deliveries/{delivery.pk}/").json()
    assert (body["status"], [a["status_code"] for a in body["attempts_log"]]) == ("succeeded", [200])


@pytest.mark.parametrize(("status", "active"), [("succeeded", True), ("delivering", True), ("failed", False)])
def test_a_delivery_that_may_not_be_redelivered_is_a_409_and_unchanged(staff_client, status, active):
    delivery = WebhookDeliveryFactory(status=status, attempts=3, endpoint=WebhookEndpointFactory(is_active=active))

    response = staff_client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver/")

    assert response.status_code == 409
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (status, 3)


def test_a_receiver_error_on_redelivery_is_logged_as_an_attempt(staff_client, receiver):
    receiver.reply(Reply(status=500, body=b"down"))
    delivery = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(url=receiver.url), status="failed", attempts=8)

    assert staff_client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 202
    services.webhook_deliver(delivery_id=delivery.pk)

    body = staff_client.get(f"/api/webhooks/deliveries/?endpoint={delivery.endpoint_id}").json()["results"][0]
    assert (body["status"], body["attempts"]) == ("retrying", 1)
    assert body["attempts_log"][0]["response_excerpt"] == "down"
