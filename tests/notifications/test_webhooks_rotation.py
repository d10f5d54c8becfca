"""Secret rotation (Standard Webhooks): after a rotation every delivery is signed with the new secret and,
for the grace period, with the old one too; then with the new one only. Checked the way a receiver
checks: the official `standardwebhooks` library, against real requests to a local receiver."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifications.models import WebhookEndpoint
from notifications.services import webhooks as services
from notifications.services.webhooks import endpoints as endpoint_services
from tests.jobs.factories import UserFactory, staff_with
from tests.notifications.factories_webhooks import WebhookDeliveryFactory, WebhookEndpointFactory
from tests.notifications.webhook_receiver import receiver_fixture  # noqa: F401 - the `receiver` fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def integrator(api_client):
    api_client.force_authenticate(
        staff_with("notifications.view_webhookendpoint", "notifications.change_webhookendpoint")
    )
    return api_client


def rotate(client, endpoint: WebhookEndpoint):
    return client.post(f"/api/webhooks/endpoints/{endpoint.pk}/rotate-secret/")


def deliver_one(endpoint: WebhookEndpoint, receiver):
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    services.webhook_deliver(delivery_id=delivery.pk)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    return receiver.requests[-1]


def verifies(secret: str, request) -> bool:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


def test_rotation_answers_a_new_secret_once_and_until_when_the_old_one_signs(integrator, settings):
    settings.WEBHOOK_SECRET_ROTATION_GRACE_HOURS = 2
    endpoint = WebhookEndpointFactory()
    old = endpoint.secret

    before = timezone.now()
    response = rotate(integrator, endpoint)
    after = timezone.now()

    assert response.status_code == 200, response.content
    body = response.json()
    endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret != old and body["secret"].startswith("whsec_")
    assert (endpoint.previous_secret, endpoint.id) == (old, body["id"])
    expires = endpoint.previous_secret_expires_at
    assert before + timedelta(hours=2) <= expires <= after + timedelta(hours=2)
    assert body["previous_secret_expires_at"] is not None
    assert integrator.get(f"/api/webhooks/endpoints/{endpoint.pk}/").json()["secret"] == endpoint.secret


def test_during_the_grace_period_either_secret_verifies_a_delivery(integrator, receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    old = endpoint.secret
    new = rotate(integrator, endpoint).json()["secret"]
    endpoint.refresh_from_db()

    request = deliver_one(endpoint, receiver)

    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert all(sig.startswith("v1,") for sig in request.headers["webhook-signature"].split(" "))
    assert verifies(old, request)  # a receiver that has not switched yet
    assert verifies(new, request)  # a receiver that already has


def test_after_the_grace_period_only_the_new_secret_verifies(integrator, receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    old = endpoint.secret
    new = rotate(integrator, endpoint).json()["secret"]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    endpoint.refresh_from_db()

    request = deliver_one(endpoint, receiver)

    assert len(request.headers["webhook-signature"].split(" ")) == 1
    assert verifies(new, request)
    assert not verifies(old, request)


def test_a_second_rotation_retires_the_first_secret_at_once(integrator, receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    first = endpoint.secret
    second = rotate(integrator, endpoint).json()["secret"]
    third = rotate(integrator, endpoint).json()["secret"]
    endpoint.refresh_from_db()

    request = deliver_one(endpoint, receiver)

    assert verifies(third, request) and verifies(second, request)
    assert not verifies(first, request)


def test_an_endpoint_never_rotated_sends_one_signature(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)

    request = deliver_one(endpoint, receiver)

    assert request.headers["webhook-signature"].count("v1,") == 1
    assert verifies(endpoint.secret, request)


def test_the_grace_period_is_a_setting(settings):
    settings.WEBHOOK_SECRET_ROTATION_GRACE_HOURS = 0.5
    endpoint = WebhookEndpointFactory()

    before = timezone.now()
    endpoint = endpoint_services.webhook_endpoint_secret_rotate(endpoint=endpoint)

    assert endpoint.previous_secret_expires_at >= before + timedelta(minutes=30)
    assert endpoint.previous_secret_expires_at < before + timedelta(hours=1)


def test_view_only_staff_cannot_rotate(api_client):
    endpoint = WebhookEndpointFactory()
    api_client.force_authenticate(staff_with("notifications.view_webhookendpoint"))

    assert rotate(api_client, endpoint).status_code == 403
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_the_admin_action_rotates_and_the_page_shows_the_new_secret(receiver):
    browser = Client()
    browser.force_login(UserFactory(is_staff=True, is_superuser=True))
    endpoint = WebhookEndpointFactory(url=receiver.url)
    old = endpoint.secret

    response = browser.post(
        "/admin/notifications/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
        follow=True,
    )

    assert "New secret for 1 endpoint(s)" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    page = browser.get(f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret in page and old not in page
    request = deliver_one(endpoint, receiver)
    assert verifies(old, request) and verifies(endpoint.secret, request)


def test_an_endpoint_added_inactive_in_the_admin_stays_inactive():
    browser = Client()
    browser.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = browser.post("/admin/notifications/webhookendpoint/add/", {"url": "https://93.184.216.34/hooks"})

    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().is_active is False
