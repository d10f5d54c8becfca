"""Email tasks: load by id, call the email service; retries with backoff on transient provider errors."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from notifications.services import email

__all__ = ["email_resend_task", "email_send_bulk_task", "email_send_task"]

# A lost database connection or a deadlock retries the task too: the send is idempotent (one Notification
# per dedupe key, under a row lock), and its transaction was rolled back.
_LIMITS = {
    "soft_time_limit": 30,
    "time_limit": 45,
    "max_retries": settings.EMAIL_SEND_MAX_RETRIES,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 30,
}


def _send(task, kind: str, object_id: int, nonce: str) -> list[int]:
    try:
        return [n.pk for n in email.email_send(kind=kind, object_id=object_id, nonce=nonce)]
    except email.TransientEmailError as exc:
        raise task.retry(exc=exc, countdown=email.retry_countdown(task.request.retries)) from exc


@shared_task(bind=True, name="notifications.send_email", queue="email", **_LIMITS)
def email_send_task(self, kind: str, object_id: int, nonce: str = "") -> list[int]:
    return _send(self, kind, object_id, nonce)


# Bulk mail (imports) has its own queue, so a password reset never waits behind 100k welcomes.
@shared_task(bind=True, name="notifications.send_bulk_email", queue="email_bulk", **_LIMITS)
def email_send_bulk_task(self, kind: str, object_id: int, nonce: str = "") -> list[int]:
    return _send(self, kind, object_id, nonce)


@shared_task(bind=True, name="notifications.send_resend_email", queue="email", **_LIMITS)
def email_resend_task(self, notification_id: int) -> str | None:
    try:
        notification = email.email_resend(notification_id=notification_id)
    except email.TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=email.retry_countdown(self.request.retries)) from exc
    return notification.status if notification else None
