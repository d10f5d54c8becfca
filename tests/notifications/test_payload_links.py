"""Every URL a webhook payload carries can be followed: an integrator's token (a user holding only the
view permissions, not staff) gets 200 from each; another learner's token gets 404 from the private ones.
A new `*_url` in a payload fails `test_every_link_in_a_payload_is_classified` until it is listed here.
"""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from notifications.events import WEBHOOK_EVENT_NAMES, webhook_event_data
from tests.enrollments.test_isolation import learner_with_certificate
from tests.jobs.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

# Pages anyone may open (the course page, the certificate's public verification page).
PUBLIC_LINKS = {"course_url", "verification_url"}
# The learner's own data: the API answers 404 to any other learner.
PRIVATE_LINKS = {"enrollment_api_url", "certificate_api_url"}


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def payloads(db) -> dict[str, dict]:
    """The `data` of each event type, about a learner with a completed enrollment and a certificate."""
    bob = learner_with_certificate("Bob")
    ids = {"enrollment": bob["enrollment"], "certificate": bob["certificate"]}
    return {
        event: webhook_event_data(event_type=event, object_id=ids[event.split(".")[0]]) for event in WEBHOOK_EVENT_NAMES
    }


def links(data: dict) -> dict[str, str]:
    found = {key: value for key, value in data.items() if key.endswith("_url")}
    for url in found.values():
        assert url.startswith(settings.SITE_URL + "/")
    return found


def path(url: str) -> str:
    return urlsplit(url).path


def test_every_link_in_a_payload_is_classified(payloads):
    keys = {key for data in payloads.values() for key in links(data)}
    assert keys == PUBLIC_LINKS | PRIVATE_LINKS


@pytest.mark.parametrize("event", WEBHOOK_EVENT_NAMES)
def test_an_integrator_token_follows_every_link_of_every_event(payloads, event):
    integrator = grant(
        UserFactory(email="crm@example.com"), "enrollments.view_enrollment", "certificates.view_certificate"
    )
    client = token_client(integrator)
    for key, url in links(payloads[event]).items():
        response = client.get(path(url))
        assert response.status_code == 200, f"{event} {key} {url}: {response.status_code}"
        if key in PRIVATE_LINKS:
            assert response.json()["learner_email"] == payloads[event]["learner_email"]


@pytest.mark.parametrize("event", WEBHOOK_EVENT_NAMES)
def test_another_learner_s_token_gets_404_from_the_private_links(payloads, event):
    ann = learner_with_certificate("Ann")
    client = token_client(ann["user"])
    private = {key: url for key, url in links(payloads[event]).items() if key in PRIVATE_LINKS}
    assert private
    for key, url in private.items():
        response = client.get(path(url))
        assert response.status_code == 404, f"{event} {key}"
        assert "bob@example.com" not in response.content.decode()
