"""Webhook services in-process, against a real HTTP receiver on 127.0.0.1: signing, the delivery rules,
retries, disabling, the sweeper, and the SSRF guard at save and at send."""

import json
import socket
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications.services import webhooks as services
from notifications.services.webhooks import endpoints as endpoint_services
from tests.certificates.factories import CertificateFactory
from tests.conftest import is_postgres
from tests.enrollments.factories import EnrollmentFactory
from tests.notifications.factories_webhooks import WebhookDeliveryFactory, WebhookEndpointFactory
from tests.notifications.webhook_receiver import Reply, receiver_fixture  # noqa: F401 - the `receiver` fixture

pytestmark = pytest.mark.django_db

UNSAFE_URLS = [
    "http://127.0.0.1/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "https://internal.example/hook",  # resolves to a private address (fake DNS below)
]
REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def no_loopback(settings, monkeypatch):
    """Production rules: loopback refused, and internal.example resolving to a private address."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "internal.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.fixture
def email_requests(monkeypatch):
    """The staff emails asked of the email half (notifications.services.email.email_request)."""
    calls = []
    monkeypatch.setattr("notifications.services.email.email_request", lambda **kwargs: calls.append(kwargs))
    return calls


def frozen_clock(monkeypatch):
    """Stop the webhook services' clock at the current time, so the times they compute are exact."""
    frozen = timezone.now()
    for module in ("delivery", "events", "retries"):
        monkeypatch.setattr(f"notifications.services.webhooks.{module}.timezone", SimpleNamespace(now=lambda: frozen))
    return frozen


def delivery_to(receiver, **kwargs) -> WebhookDelivery:
    return WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(url=receiver.url, **kwargs))


def verified(request, secret: str) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


# --- Fan-out --------------------------------------------------------------------------------------


def test_fanout_makes_one_event_and_one_delivery_per_subscribed_active_endpoint(django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(progress_percent=40)
    everything = WebhookEndpointFactory()
    subscribed = WebhookEndpointFactory(event_types=["enrollment.created"])
    WebhookEndpointFactory(event_types=["certificate.issued"])
    WebhookEndpointFactory(is_active=False)

    with django_capture_on_commit_callbacks() as queued:
        event = services.webhook_event_fanout(event_type="enrollment.created", object_id=enrollment.pk)

    assert {d.endpoint for d in event.deliveries.all()} == {everything, subscribed}
    assert len(queued) == 2
    assert event.dedupe_key == f"enrollment.created:{enrollment.pk}"
    assert event.payload["type"] == "enrollment.created"
    assert event.payload["data"] == {
        "enrollment_id": enrollment.pk,
        "learner_id": enrollment.learner.pk,
        "learner_email": enrollment.learner.email,
        "course_slug": enrollment.course.slug,
        "course_title": enrollment.course.title,
        "status": "active",
        "progress_percent": 40,
        "completed_at": None,
        "course_url": f"http://127.0.0.1:8000/courses/{enrollment.course.slug}/",
        "enrollment_api_url": f"http://127.0.0.1:8000/api/enrollments/{enrollment.pk}/",
    }


def test_certificate_events_carry_the_verification_url_and_no_whole_objects():
    certificate = CertificateFactory()
    WebhookEndpointFactory()

    event = services.webhook_event_fanout(event_type="certificate.issued", object_id=certificate.pk)

    data = event.payload["data"]
    assert data["certificate_id"] == certificate.pk
    assert data["enrollment_id"] == certificate.enrollment.pk
    assert data["learner_email"] == certificate.enrollment.learner.email
    assert data["course_slug"] == certificate.enrollment.course.slug
    assert data["verification_url"] == certificate.get_verification_url()
    assert data["status"] == certificate.status
    assert "learner_name" not in data and "pdf" not in data


def test_a_second_fanout_of_the_same_event_creates_nothing_new():
    enrollment = EnrollmentFactory()
    WebhookEndpointFactory()
    first = services.webhook_event_fanout(event_type="enrollment.created", object_id=enrollment.pk)
    second = services.webhook_event_fanout(event_type="enrollment.created", object_id=enrollment.pk)

    assert first == second
    assert WebhookEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


def test_fanout_without_subscribers_or_object_records_nothing():
    enrollment = EnrollmentFactory()
    assert services.webhook_event_fanout(event_type="enrollment.created", object_id=enrollment.pk) is None
    WebhookEndpointFactory()
    assert services.webhook_event_fanout(event_type="enrollment.created", object_id=999_999) is None
    assert not WebhookEvent.objects.exists()


# --- Sending --------------------------------------------------------------------------------------


def test_a_delivery_is_signed_with_the_endpoint_secret_and_sent_as_stored(receiver):
    delivery = delivery_to(receiver)

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert delivered.status == "succeeded" and delivered.delivered_at is not None
    [request] = receiver.requests
    assert verified(request, delivery.endpoint.secret) == delivery.event.payload
    assert request.headers["webhook-id"] == delivery.event.event_id
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].endswith("-Webhooks/1.0")
    assert request.path == "/hooks?source=lms"
    assert request.headers["Host"] == receiver.url.split("/")[2]
    attempt = delivered.attempt_log.get()
    assert (attempt.status_code, attempt.response_excerpt, attempt.error) == (200, "ok", "")


def test_a_signature_made_with_another_secret_does_not_verify(receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    delivery = delivery_to(receiver)
    services.webhook_deliver(delivery_id=delivery.pk)

    with pytest.raises(WebhookVerificationError):
        verified(receiver.requests[0], WebhookEndpointFactory().secret)


def test_a_succeeded_delivery_is_never_sent_again(receiver):
    delivery = delivery_to(receiver)
    services.webhook_deliver(delivery_id=delivery.pk)
    services.webhook_deliver(delivery_id=delivery.pk)
    assert services.webhook_redeliver(delivery=delivery) is False
    services.webhook_deliver(delivery_id=delivery.pk)

    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.count() == 1


def test_a_delivery_another_worker_is_sending_is_left_alone(receiver):
    delivery = delivery_to(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="delivering", next_attempt_at=timezone.now() + timedelta(seconds=30)
    )

    services.webhook_deliver(delivery_id=delivery.pk)

    assert receiver.requests == []


def test_a_delivery_to_a_disabled_endpoint_fails_without_a_request(receiver):
    delivery = delivery_to(receiver, is_active=False)

    assert services.webhook_deliver(delivery_id=delivery.pk).status == "failed"
    assert receiver.requests == []


def test_non_2xx_is_a_failure_with_a_capped_excerpt_and_a_retry_in_5_seconds(receiver, settings, monkeypatch):
    settings.WEBHOOK_RESPONSE_CAP_BYTES = 100
    receiver.reply(Reply(status=500, body=b"x" * 10_000))
    delivery = delivery_to(receiver)
    monkeypatch.setattr("notifications.services.webhooks.retries.random.uniform", lambda low, high: 1.0)  # no jitter
    frozen = frozen_clock(monkeypatch)

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert delivered.status == "retrying" and delivered.last_status_code == 500
    assert delivered.next_attempt_at == frozen + timedelta(seconds=5)
    attempt = delivered.attempt_log.get()
    assert attempt.status_code == 500 and attempt.response_excerpt == "x" * 100
    assert delivered.endpoint.__class__.objects.get(pk=delivered.endpoint_id).consecutive_failures == 1


def test_redirects_are_not_followed(receiver):
    receiver.reply(Reply(status=302, headers={"Location": "http://169.254.169.254/"}))
    delivery = delivery_to(receiver)

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert delivered.status == "retrying" and delivered.last_status_code == 302
    assert len(receiver.requests) == 1


def test_a_hanging_receiver_hits_the_read_timeout_and_the_delivery_is_retried(receiver, settings):
    settings.WEBHOOK_READ_TIMEOUT = 1
    receiver.reply(Reply(delay=30))
    delivery = delivery_to(receiver)

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert delivered.status == "retrying" and delivered.next_attempt_at is not None
    attempt = delivered.attempt_log.get()
    # Cut by the configured read timeout (urllib3 names it), not by the task's soft time limit.
    assert attempt.status_code is None and "Read timed out. (read timeout=1)" in attempt.error


def test_the_retry_schedule_runs_5s_5min_30min_2h_5h_10h_24h_then_gives_up(monkeypatch):
    monkeypatch.setattr("notifications.services.webhooks.retries.random.uniform", lambda low, high: 1.0)
    waits = [services.retry_delay_seconds(n) for n in range(1, 9)]
    assert waits == [5, 300, 1800, 7200, 18000, 36000, 86400, None]


def test_retry_waits_are_jittered_by_at_most_ten_percent():
    waits = {services.retry_delay_seconds(2) for _ in range(50)}
    assert len(waits) > 1 and all(270 <= w <= 330 for w in waits)


def test_the_last_scheduled_attempt_failing_gives_the_delivery_up(receiver):
    receiver.reply(Reply(status=500))
    delivery = delivery_to(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=services.MAX_ATTEMPTS - 1)

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert delivered.status == "failed" and delivered.next_attempt_at is None
    assert delivered.attempts == services.MAX_ATTEMPTS == 8


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_honoured_on_429_and_503(receiver, status, monkeypatch):
    receiver.reply(Reply(status=status, headers={"retry-after": "120"}))  # any case
    delivery = delivery_to(receiver)
    frozen = frozen_clock(monkeypatch)

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert delivered.next_attempt_at == frozen + timedelta(seconds=120)


def test_retry_after_as_an_http_date_is_honoured_and_capped_at_a_day():
    now = timezone.now()
    assert services.retry_after_seconds("Wed, 21 Oct 2099 07:28:00 GMT", now=now) == 24 * 3600
    in_an_hour = (now + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 3590 <= services.retry_after_seconds(in_an_hour, now=now) <= 3600
    assert services.retry_after_seconds("999999999", now=now) == 24 * 3600
    assert services.retry_after_seconds("soon", now=now) is None


def test_410_gone_disables_the_endpoint_fails_the_delivery_and_tells_staff(receiver, email_requests):
    receiver.reply(Reply(status=410))
    delivery = delivery_to(receiver)

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    assert delivered.status == "failed"
    assert not endpoint.is_active and endpoint.disabled_at is not None and "410" in endpoint.disabled_reason
    assert email_requests == [
        {"kind": "webhook_endpoint_disabled", "object_id": endpoint.pk, "nonce": endpoint.disabled_at.isoformat()}
    ]


def test_consecutive_failures_disable_the_endpoint_at_the_limit_and_email_staff_once(
    receiver, settings, email_requests
):
    settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES = 3
    receiver.default = Reply(status=500)
    endpoint = WebhookEndpointFactory(url=receiver.url, consecutive_failures=1)
    deliveries = [WebhookDeliveryFactory(endpoint=endpoint) for _ in range(3)]

    services.webhook_deliver(delivery_id=deliveries[0].pk)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 2
    services.webhook_deliver(delivery_id=deliveries[1].pk)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.consecutive_failures == 3
    assert endpoint.disabled_reason == "3 consecutive failed attempts."
    services.webhook_deliver(delivery_id=deliveries[2].pk)  # disabled now: not sent

    assert len(receiver.requests) == 2
    assert [call["object_id"] for call in email_requests] == [endpoint.pk]


def test_a_success_resets_the_failure_count(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url, consecutive_failures=7)
    services.webhook_deliver(delivery_id=WebhookDeliveryFactory(endpoint=endpoint).pk)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_every_retry_sends_the_same_id_and_body_with_a_fresh_signature(receiver):
    receiver.reply(Reply(status=500))
    delivery = delivery_to(receiver)
    services.webhook_deliver(delivery_id=delivery.pk)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    services.webhook_deliver(delivery_id=delivery.pk)

    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.event.event_id
    assert first.body == second.body
    assert verified(second, delivery.endpoint.secret) == json.loads(first.body)


# --- The sweeper ----------------------------------------------------------------------------------


def test_the_sweeper_claims_due_retries_and_lost_pending_deliveries_only(django_capture_on_commit_callbacks):
    now = timezone.now()
    due = WebhookDeliveryFactory(status="retrying", next_attempt_at=now - timedelta(seconds=1))
    lost = WebhookDeliveryFactory(status="pending", next_attempt_at=now - timedelta(seconds=1))
    WebhookDeliveryFactory(status="retrying", next_attempt_at=now + timedelta(minutes=5))
    WebhookDeliveryFactory(status="succeeded", next_attempt_at=None)
    WebhookDeliveryFactory(status="failed", next_attempt_at=None)

    with django_capture_on_commit_callbacks() as queued:
        claimed = services.webhook_due_claim()

    assert sorted(claimed) == sorted([due.pk, lost.pk])
    assert len(queued) == 2
    due.refresh_from_db()
    assert due.status == "pending" and due.next_attempt_at > now + timedelta(minutes=5)
    assert services.webhook_due_claim() == []  # claimed rows are not claimed again


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweeper_skips_deliveries_another_sweeper_has_locked(monkeypatch):
    if not is_postgres():
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite serializes sweepers with its write lock")
    monkeypatch.setattr("notifications.services.webhooks.delivery.deliver_later", lambda ids: None)
    past = timezone.now() - timedelta(seconds=1)
    locked = WebhookDeliveryFactory(status="retrying", next_attempt_at=past)
    free = WebhookDeliveryFactory(status="retrying", next_attempt_at=past)
    holding, release = threading.Event(), threading.Event()

    def other_sweeper() -> None:
        with transaction.atomic():
            list(WebhookDelivery.objects.select_for_update().filter(pk=locked.pk))
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_sweeper)
    thread.start()
    assert holding.wait(10)
    try:
        claimed = services.webhook_due_claim()
    finally:
        release.set()
        thread.join()

    assert claimed == [free.pk]


def test_the_sweeper_takes_back_a_delivery_whose_worker_died_and_logs_the_lost_attempt(receiver):
    delivery = delivery_to(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="delivering", attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    assert services.webhook_due_claim() == [delivery.pk]
    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert delivered.status == "succeeded" and delivered.attempts == 2
    assert [a.error != "" for a in delivered.attempt_log.order_by("id")] == [True, False]


def test_redeliver_resets_a_failed_delivery_to_a_fresh_schedule(receiver, django_capture_on_commit_callbacks):
    delivery = delivery_to(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=8)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.webhook_redeliver(delivery=delivery) is True
    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert len(queued) == 1
    assert delivered.status == "succeeded" and delivered.attempts == 1


def test_a_test_event_goes_to_that_endpoint_alone(receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    WebhookEndpointFactory()

    with django_capture_on_commit_callbacks() as queued:
        delivery = services.webhook_send_test_event(endpoint=endpoint)
    services.webhook_deliver(delivery_id=delivery.pk)

    assert len(queued) == 1 and WebhookDelivery.objects.count() == 1
    assert verified(receiver.requests[0], endpoint.secret)["type"] == "webhook.test"


# --- Endpoints and the SSRF guard -----------------------------------------------------------------


def test_an_endpoint_created_by_the_service_gets_a_standard_webhooks_secret(receiver):
    endpoint = endpoint_services.webhook_endpoint_create(url=receiver.url, event_types=["certificate.issued"])
    assert endpoint.secret.startswith("whsec_") and endpoint.is_active
    assert endpoint.event_types == ["certificate.issued"]


def test_unknown_event_types_are_refused():
    with pytest.raises(ValidationError) as error:
        endpoint_services.webhook_endpoint_create(url="http://127.0.0.1/hook", event_types=["user.deleted"])
    assert "event_types" in error.value.message_dict


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_urls_are_refused_at_save_by_the_service(no_loopback, url):
    with pytest.raises(ValidationError) as error:
        endpoint_services.webhook_endpoint_create(url=url)
    assert "public addresses" in error.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_changing_the_url_to_an_unsafe_one_is_refused(no_loopback):
    endpoint = WebhookEndpointFactory(url="https://93.184.216.34/hook")
    with pytest.raises(ValidationError):
        endpoint_services.webhook_endpoint_update(endpoint=endpoint, data={"url": "http://10.0.0.1/"})
    endpoint.refresh_from_db()
    assert endpoint.url == "https://93.184.216.34/hook"


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_urls_are_refused_at_send_without_a_connection(no_loopback, monkeypatch, url):
    connections = []
    monkeypatch.setattr("urllib3.util.connection.create_connection", lambda *a, **k: connections.append(a))
    delivery = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(url=url))  # bypasses the save check

    delivered = services.webhook_deliver(delivery_id=delivery.pk)

    assert connections == []
    assert delivered.status == "retrying"
    attempt = delivered.attempt_log.get()
    assert attempt.status_code is None and attempt.error.startswith("Refused:")


def test_the_receiver_on_loopback_gets_nothing_when_loopback_is_not_allowed(receiver, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    delivery = delivery_to(receiver)

    services.webhook_deliver(delivery_id=delivery.pk)

    assert receiver.requests == []
    assert "loopback" in delivery.attempt_log.get().error


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(receiver, monkeypatch):
    """DNS rebinding: the name resolves to loopback (allowed here) at the check, and to a private
    address on any later lookup; the request still reaches the receiver at the checked address."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    lookups = []

    def rebinding_getaddrinfo(host, port_, *args, **kwargs):
        if host == "rebind.example":
            lookups.append(host)
            ip = "127.0.0.1" if len(lookups) == 1 else "10.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port_))]
        return REAL_GETADDRINFO(host, port_, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    delivery = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(url=f"http://rebind.example:{port}/hooks"))

    assert services.webhook_deliver(delivery_id=delivery.pk).status == "succeeded"
    assert lookups == ["rebind.example"]
    assert receiver.requests[0].headers["Host"] == f"rebind.example:{port}"
