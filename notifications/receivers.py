"""The notifications app listens to the other apps' domain signals. Each receiver only enqueues.

Emails have a receiver each; webhook events get theirs from the table in notifications.events, one per
row, so a new event type needs no receiver written here.
"""

from accounts.signals import password_reset_requested, user_registered
from certificates.signals import certificate_issued, certificate_revoked
from enrollments.signals import enrollment_created
from imports.signals import enrollments_imported
from notifications import events
from notifications.events import WebhookEventKind, webhook_event_type
from notifications.models import Notification
from reports.signals import report_ready

Kind = Notification.Kind


def _email(kind: str, object_id: int, nonce: str = "") -> None:
    from notifications.services.email import email_request

    email_request(kind=kind, object_id=object_id, nonce=nonce)


def _webhook(kind: WebhookEventKind, object_id: int) -> None:
    from jobs.enqueue import enqueue
    from notifications.tasks.webhooks import webhook_event_fanout_task

    enqueue(webhook_event_fanout_task, about=(kind.about, object_id), event_type=kind.name, object_id=object_id)


class WebhookReceiver:
    """The receiver of one event type's domain signal: queues the event's fan-out about the object."""

    def __init__(self, kind: WebhookEventKind):
        self.kind = kind

    def __call__(self, sender, **kwargs) -> None:
        _webhook(self.kind, kwargs[self.kind.object_kwarg])


def on_user_registered(sender, *, user_id: int, **kwargs) -> None:
    _email(Kind.WELCOME, user_id)


def on_password_reset_requested(sender, *, user_id: int, request_id: str, **kwargs) -> None:
    _email(Kind.PASSWORD_RESET, user_id, nonce=request_id)


def on_enrollment_created(sender, *, enrollment_id: int, **kwargs) -> None:
    _email(Kind.ENROLLMENT_CONFIRMATION, enrollment_id)


def on_enrollments_imported(sender, *, enrollment_ids: list[int], welcome_user_ids: list[int], **kwargs) -> None:
    """One batch of an import: welcome mail on the bulk queue (never ahead of a password reset), and the
    enrollment.created webhook as for a single enrollment, but only when an endpoint wants it."""
    from notifications.selectors import webhook_event_has_subscribers
    from notifications.services.email import email_request

    for user_id in welcome_user_ids:
        email_request(kind=Kind.WELCOME, object_id=user_id, bulk=True)
    created = webhook_event_type("enrollment.created")
    if webhook_event_has_subscribers(event_type=created.name):
        for enrollment_id in enrollment_ids:
            _webhook(created, enrollment_id)


def on_certificate_issued(sender, *, certificate_id: int, **kwargs) -> None:
    _email(Kind.CERTIFICATE_ISSUED, certificate_id)


def on_certificate_revoked(sender, *, certificate_id: int, **kwargs) -> None:
    _email(Kind.CERTIFICATE_REVOKED, certificate_id)


def on_report_ready(sender, *, report_id: int, **kwargs) -> None:
    _email(Kind.REPORT_READY, report_id)


def connect() -> None:
    user_registered.connect(on_user_registered, dispatch_uid="notifications.user_registered")
    password_reset_requested.connect(on_password_reset_requested, dispatch_uid="notifications.password_reset")
    enrollment_created.connect(on_enrollment_created, dispatch_uid="notifications.enrollment_created")
    enrollments_imported.connect(on_enrollments_imported, dispatch_uid="notifications.enrollments_imported")
    certificate_issued.connect(on_certificate_issued, dispatch_uid="notifications.certificate_issued")
    certificate_revoked.connect(on_certificate_revoked, dispatch_uid="notifications.certificate_revoked")
    report_ready.connect(on_report_ready, dispatch_uid="notifications.report_ready")
    for kind in events.WEBHOOK_EVENTS:
        # weak=False: the receiver object lives only in the signal's list.
        kind.signal.connect(WebhookReceiver(kind), weak=False, dispatch_uid=f"notifications.webhook.{kind.name}")
