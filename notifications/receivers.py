"""The notifications app listens to the other apps' domain signals. Each receiver only enqueues."""

from certificates.signals import certificate_issued, certificate_revoked
from enrollments.signals import enrollment_completed, enrollment_created, enrollments_imported
from lms.accounts.signals import password_reset_requested, user_registered
from notifications.models import Notification, WebhookEventType

Kind = Notification.Kind


def _email(kind: str, object_id: int, nonce: str = "") -> None:
    from notifications.services.email import email_request

    email_request(kind=kind, object_id=object_id, nonce=nonce)


def _webhook(event_type: str, object_id: int) -> None:
    from lms.tasks import enqueue
    from notifications.tasks.webhooks import webhook_event_fanout_task

    model = "certificates.Certificate" if event_type.startswith("certificate.") else "enrollments.Enrollment"
    enqueue(webhook_event_fanout_task, about=(model, object_id), event_type=event_type, object_id=object_id)


def on_user_registered(sender, *, user_id: int, **kwargs) -> None:
    _email(Kind.WELCOME, user_id)


def on_password_reset_requested(sender, *, user_id: int, request_id: str, **kwargs) -> None:
    _email(Kind.PASSWORD_RESET, user_id, nonce=request_id)


def on_enrollment_created(sender, *, enrollment_id: int, **kwargs) -> None:
    _email(Kind.ENROLLMENT_CONFIRMATION, enrollment_id)
    _webhook(WebhookEventType.ENROLLMENT_CREATED, enrollment_id)


def on_enrollments_imported(sender, *, enrollment_ids: list[int], welcome_user_ids: list[int], **kwargs) -> None:
    """One batch of an import: welcome mail on the bulk queue (never ahead of a password reset), and the
    enrollment.created webhook as for a single enrollment, but only when an endpoint wants it."""
    from notifications.selectors import webhook_event_has_subscribers
    from notifications.services.email import email_request

    for user_id in welcome_user_ids:
        email_request(kind=Kind.WELCOME, object_id=user_id, bulk=True)
    if webhook_event_has_subscribers(event_type=WebhookEventType.ENROLLMENT_CREATED):
        for enrollment_id in enrollment_ids:
            _webhook(WebhookEventType.ENROLLMENT_CREATED, enrollment_id)


def on_enrollment_completed(sender, *, enrollment_id: int, **kwargs) -> None:
    _webhook(WebhookEventType.ENROLLMENT_COMPLETED, enrollment_id)


def on_certificate_issued(sender, *, certificate_id: int, **kwargs) -> None:
    _email(Kind.CERTIFICATE_ISSUED, certificate_id)
    _webhook(WebhookEventType.CERTIFICATE_ISSUED, certificate_id)


def on_certificate_revoked(sender, *, certificate_id: int, **kwargs) -> None:
    _email(Kind.CERTIFICATE_REVOKED, certificate_id)
    _webhook(WebhookEventType.CERTIFICATE_REVOKED, certificate_id)


def connect() -> None:
    user_registered.connect(on_user_registered, dispatch_uid="notifications.user_registered")
    password_reset_requested.connect(on_password_reset_requested, dispatch_uid="notifications.password_reset")
    enrollment_created.connect(on_enrollment_created, dispatch_uid="notifications.enrollment_created")
    enrollments_imported.connect(on_enrollments_imported, dispatch_uid="notifications.enrollments_imported")
    enrollment_completed.connect(on_enrollment_completed, dispatch_uid="notifications.enrollment_completed")
    certificate_issued.connect(on_certificate_issued, dispatch_uid="notifications.certificate_issued")
    certificate_revoked.connect(on_certificate_revoked, dispatch_uid="notifications.certificate_revoked")
