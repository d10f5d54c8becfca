"""Emails through the real worker: queued after commit, sent once, retried with backoff."""

import pytest

from jobs.enqueue import enqueue
from notifications.models import Notification
from notifications.tasks.email import email_send_task
from tests.jobs.factories import UserFactory
from tests.utils import wait_for

pytestmark = pytest.mark.integration


def test_registration_sends_one_welcome_email_through_the_worker(worker, api_client):
    response = api_client.post(
        "/api/auth/register/", {"email": "newbie@example.com", "password": "a-long-passphrase-42"}, format="json"
    )
    assert response.status_code == 201
    notification = wait_for(
        lambda: Notification.objects.filter(recipient="newbie@example.com", status="sent").first(),
        message="the welcome email sent by the worker",
    )
    assert notification.kind == "welcome" and notification.subject == "Welcome to LMS"
    assert notification.attempts == 1 and notification.provider_message_id != ""


def test_the_same_task_delivered_twice_sends_one_email(worker):
    user = UserFactory()
    enqueue(email_send_task, kind="welcome", object_id=user.pk)
    enqueue(email_send_task, kind="welcome", object_id=user.pk)
    from django_celery_results.models import TaskResult

    wait_for(
        lambda: TaskResult.objects.filter(task_name="notifications.send_email", status="SUCCESS").count() == 2,
        message="both deliveries to finish",
    )
    notification = Notification.objects.get(recipient=user.email)
    assert notification.status == "sent" and notification.attempts == 1


def test_transient_provider_errors_are_retried_with_backoff_until_sent(worker):
    user = UserFactory(email="flaky+transient2@example.com")
    enqueue(email_send_task, kind="welcome", object_id=user.pk)
    notification = wait_for(
        lambda: Notification.objects.filter(recipient=user.email, status="sent").first(),
        timeout=40,
        message="the email sent after two transient failures",
    )
    assert notification.attempts == 3


def test_password_reset_page_queues_the_mail_for_the_worker(worker, client):
    user = UserFactory(email="reset-me@example.com")
    response = client.post("/accounts/password-reset/", {"email": "RESET-ME@example.com"})
    assert response.status_code == 302
    notification = wait_for(
        lambda: Notification.objects.filter(user=user, kind="password_reset", status="sent").first(),
        message="the password reset email",
    )
    assert notification.recipient == "reset-me@example.com"
