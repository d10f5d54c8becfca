"""Emails: rendered with links, sent once per dedupe key, retried on transient provider errors."""

import re

import pytest
from django.core import mail

from certificates import services as certificate_services
from notifications.models import Notification
from notifications.services.email import TransientEmailError, email_send, notification_resend
from tests.certificates.conftest import completed_enrollment  # noqa: F401 - fixture
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def _links(message) -> set[str]:
    return set(re.findall(r"https?://[^\s\"<]+", message.body))


def test_welcome_email_has_recipient_subject_html_and_links(settings):
    settings.SITE_URL, settings.SITE_NAME = "https://lms.example.com", "Acme Academy"
    user = UserFactory(email="zoe@example.com", full_name="Zoë")

    [notification] = email_send(kind=Kind.WELCOME, object_id=user.pk)

    [message] = mail.outbox
    assert message.to == ["zoe@example.com"]
    assert message.subject == "Welcome to Acme Academy"
    assert _links(message) >= {"https://lms.example.com/courses/", "https://lms.example.com/dashboard/"}
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Acme Academy" in html and "https://lms.example.com/courses/" in html
    assert notification.status == "sent" and notification.sent_at and notification.provider_message_id == "0"
    assert notification.about == user


def test_welcome_for_an_account_without_password_links_to_set_one(client):
    user = UserFactory(password=None)
    user.set_unusable_password()
    user.save()
    email_send(kind=Kind.WELCOME, object_id=user.pk)
    [link] = [u for u in _links(mail.outbox[0]) if "/accounts/reset/" in u]
    response = client.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    assert "Choose a new password" in response.content.decode()


def test_password_reset_email_link_opens_the_set_password_form(client):
    user = UserFactory(email="forgot@example.com")
    email_send(kind=Kind.PASSWORD_RESET, object_id=user.pk, nonce="req-1")
    [message] = mail.outbox
    assert message.to == ["forgot@example.com"] and message.subject == "Reset your LMS password"
    [link] = [u for u in _links(message) if "/accounts/reset/" in u]
    response = client.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    assert "Choose a new password" in response.content.decode()


def test_two_reset_requests_send_two_emails_but_one_request_redelivered_sends_one():
    user = UserFactory()
    email_send(kind=Kind.PASSWORD_RESET, object_id=user.pk, nonce="req-1")
    email_send(kind=Kind.PASSWORD_RESET, object_id=user.pk, nonce="req-1")
    email_send(kind=Kind.PASSWORD_RESET, object_id=user.pk, nonce="req-2")
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(kind=Kind.PASSWORD_RESET).count() == 2


def test_enrollment_confirmation_links_to_the_course():
    enrollment = EnrollmentFactory(course__title="Rust for Pythonistas", course__slug="rust")
    email_send(kind=Kind.ENROLLMENT_CONFIRMATION, object_id=enrollment.pk)
    [message] = mail.outbox
    assert message.to == [enrollment.learner.email]
    assert message.subject == "You are enrolled in Rust for Pythonistas"
    assert "http://127.0.0.1:8000/courses/rust/" in _links(message)


def test_certificate_email_has_verification_and_download_links(completed_enrollment):  # noqa: F811
    certificate = certificate_services.certificate_issue(enrollment_id=completed_enrollment.pk)
    email_send(kind=Kind.CERTIFICATE_ISSUED, object_id=certificate.pk)
    [message] = mail.outbox
    assert message.to == [completed_enrollment.learner.email]
    assert message.subject == "Your certificate for Python für Anfänger"
    assert {
        f"http://127.0.0.1:8000/certificates/verify/{certificate.code}/",
        f"http://127.0.0.1:8000/certificates/{certificate.pk}/pdf/",
    } <= _links(message)
    assert certificate.display_code in message.body


def test_sending_the_same_email_twice_sends_it_once():
    user = UserFactory()
    email_send(kind=Kind.WELCOME, object_id=user.pk)
    email_send(kind=Kind.WELCOME, object_id=user.pk)
    assert len(mail.outbox) == 1
    notification = Notification.objects.get()
    assert notification.attempts == 1 and notification.status == "sent"


def test_transient_provider_errors_keep_the_email_queued_until_it_goes_through():
    user = UserFactory(email="ann+transient2@example.com")
    for attempt in (1, 2):
        with pytest.raises(TransientEmailError):
            email_send(kind=Kind.WELCOME, object_id=user.pk)
        notification = Notification.objects.get()
        assert (notification.status, notification.attempts) == ("queued", attempt)
        assert "503" in notification.last_error or "unavailable" in notification.last_error
    [notification] = email_send(kind=Kind.WELCOME, object_id=user.pk)
    assert (notification.status, notification.attempts, notification.last_error) == ("sent", 3, "")


def test_permanent_provider_errors_mark_the_email_failed_and_resend_tries_again(django_capture_on_commit_callbacks):
    user = UserFactory(email="bob+permanent@example.com")
    [notification] = email_send(kind=Kind.WELCOME, object_id=user.pk)
    assert notification.status == "failed" and "refused" in notification.last_error
    # A redelivery does not hammer the provider with a known-bad address...
    email_send(kind=Kind.WELCOME, object_id=user.pk)
    assert Notification.objects.get().attempts == 1
    # ...but staff's resend queues one more try.
    with django_capture_on_commit_callbacks() as callbacks:
        notification_resend(notification=notification)
    assert len(callbacks) == 1


def test_unknown_objects_send_nothing():
    assert email_send(kind=Kind.WELCOME, object_id=424242) == []
    assert mail.outbox == []


def test_bulk_and_urgent_mail_use_different_queues():
    from jobs.enqueue import queue_for

    assert queue_for("notifications.send_email") == "email"
    assert queue_for("notifications.send_bulk_email") == "email_bulk"


TRICKY = 'Tom & "Jerry" <x>'


def test_subject_and_text_body_carry_names_as_typed_and_the_html_body_escapes_them(settings):
    settings.SITE_NAME = TRICKY
    enrollment = EnrollmentFactory(course__title=TRICKY, learner__full_name='Tom&"Jerry" <x>')

    email_send(kind=Kind.WELCOME, object_id=enrollment.learner.pk)
    email_send(kind=Kind.ENROLLMENT_CONFIRMATION, object_id=enrollment.pk)

    welcome, enrolled = mail.outbox
    assert welcome.subject == 'Welcome to Tom & "Jerry" <x>'
    assert enrolled.subject == 'You are enrolled in Tom & "Jerry" <x>'
    assert 'Hello Tom&"Jerry",' in enrolled.body and 'You are enrolled in "Tom & "Jerry" <x>".' in enrolled.body
    assert 'Welcome to Tom & "Jerry" <x>!' in welcome.body
    for message in (welcome, enrolled):
        assert "&amp;" not in message.subject + message.body and "&quot;" not in message.subject + message.body
        html = message.alternatives[0][0]
        assert "Tom &amp; &quot;Jerry&quot; &lt;x&gt;" in html and TRICKY not in html
    assert Notification.objects.get(kind=Kind.ENROLLMENT_CONFIRMATION).subject == enrolled.subject


def test_endpoint_disabled_email_reads_as_sentences_without_a_double_period():
    from tests.jobs.factories import staff_with
    from tests.notifications.factories_webhooks import WebhookEndpointFactory

    staff_with("notifications.change_webhookendpoint", email="ops@example.com")
    endpoint = WebhookEndpointFactory(is_active=False, disabled_reason="The receiver answered 410 Gone.")

    email_send(kind=Kind.WEBHOOK_ENDPOINT_DISABLED, object_id=endpoint.pk)

    [message] = mail.outbox
    assert "was disabled. Reason: The receiver answered 410 Gone.\n" in message.body
    assert ".." not in message.body and ".." not in message.alternatives[0][0]
