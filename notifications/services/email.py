"""Emails: one Notification row per (kind, object, request, recipient), sent once through Django's mail
API (django-anymail in production). The row's unique dedupe key and a row lock decide; a redelivered or
duplicated task finds the row already sent and sends nothing."""

import hashlib
import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from jobs.enqueue import enqueue
from notifications.models import Notification

logger = logging.getLogger(__name__)
Kind = Notification.Kind

# A row left "sending" longer than the send task's hard time limit belongs to a worker that died.
SENDING_STALE_AFTER = timedelta(seconds=60)


# The model each kind of email is about, for the job record staff see on that object's admin page.
ABOUT_MODEL = {
    Kind.WELCOME: "accounts.User",
    Kind.PASSWORD_RESET: "accounts.User",
    Kind.ENROLLMENT_CONFIRMATION: "enrollments.Enrollment",
    Kind.CERTIFICATE_ISSUED: "certificates.Certificate",
    Kind.CERTIFICATE_REVOKED: "certificates.Certificate",
    Kind.WEBHOOK_ENDPOINT_DISABLED: "notifications.WebhookEndpoint",
    Kind.REPORT_READY: "reports.Report",
}


class TransientEmailError(Exception):
    """The provider may accept the message later: the task retries with backoff."""


@dataclass
class Message:
    recipient: str
    about: object
    context: dict = field(default_factory=dict)
    user: object = None


def email_request(*, kind: str, object_id: int, nonce: str = "", bulk: bool = False) -> None:
    """Queue the `kind` email about object `object_id` after commit.

    `nonce` tells apart requests that may legitimately repeat (each password reset request), and is the
    same for every delivery of one request. Bulk mail goes to its own queue, behind nothing urgent.
    """
    from notifications.tasks.email import email_send_bulk_task, email_send_task

    task = email_send_bulk_task if bulk else email_send_task
    enqueue(task, about=(ABOUT_MODEL[kind], object_id), kind=kind, object_id=object_id, nonce=nonce)


def _url(path: str) -> str:
    return settings.SITE_URL + path


def _set_password_url(user) -> str:
    # Made at send time by the worker: the token never sits in the broker or in stored task arguments.
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return _url(
        reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
    )


def _user_messages(kind: str, user_id: int) -> list[Message]:
    User = get_user_model()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return []
    context = {"catalog_url": _url(reverse("catalog")), "dashboard_url": _url(reverse("dashboard"))}
    if kind == Kind.PASSWORD_RESET or not user.has_usable_password():
        context["set_password_url"] = _set_password_url(user)
    return [Message(recipient=user.email, about=user, user=user, context=context)]


def _enrollment_confirmation_messages(enrollment_id: int) -> list[Message]:
    from enrollments.models import Enrollment

    enrollment = Enrollment.objects.select_related("learner", "course").filter(pk=enrollment_id).first()
    if enrollment is None:
        return []
    context = {"enrollment": enrollment, "course_url": _url(enrollment.course.get_absolute_url())}
    return [Message(recipient=enrollment.learner.email, about=enrollment, user=enrollment.learner, context=context)]


def _certificate_issued_messages(certificate_id: int) -> list[Message]:
    from certificates.models import Certificate

    certificate = Certificate.objects.select_related("enrollment__learner").filter(pk=certificate_id).first()
    if certificate is None or certificate.status != Certificate.Status.ISSUED:
        return []
    learner = certificate.enrollment.learner
    context = {
        "certificate": certificate,
        "verification_url": certificate.get_verification_url(),
        "download_url": _url(certificate.get_download_url()),
    }
    return [Message(recipient=learner.email, about=certificate, user=learner, context=context)]


def _endpoint_disabled_messages(endpoint_id: int) -> list[Message]:
    from notifications.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return []
    admin_url = _url(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]))
    # Those who can act on it (and may see the endpoint), not every staff user.
    staff = (
        ModelBackend()
        .with_perm("notifications.change_webhookendpoint", is_active=True, include_superusers=True)
        .filter(is_staff=True)
        .order_by("pk")
    )
    context = {"endpoint": endpoint, "admin_url": admin_url}
    return [Message(recipient=u.email, about=endpoint, user=u, context=context) for u in staff]


def _messages_for(kind: str, object_id: int) -> list[Message]:
    """Who gets the `kind` email about object `object_id`, with the template context for each."""
    if kind in (Kind.WELCOME, Kind.PASSWORD_RESET):
        return _user_messages(kind, object_id)
    by_kind = {
        Kind.ENROLLMENT_CONFIRMATION: _enrollment_confirmation_messages,
        Kind.CERTIFICATE_ISSUED: _certificate_issued_messages,
        Kind.CERTIFICATE_REVOKED: _certificate_revoked_messages,
        Kind.REPORT_READY: _report_ready_messages,
        Kind.WEBHOOK_ENDPOINT_DISABLED: _endpoint_disabled_messages,
    }
    if kind not in by_kind:
        raise ValueError(f"unknown email kind {kind!r}")
    return by_kind[kind](object_id)


def _report_ready_messages(report_id: int) -> list[Message]:
    """To whoever asked for the report, if they still may download it: the permission-checked link."""
    from reports.models import Report

    report = Report.objects.select_related("requested_by", "course").filter(pk=report_id).first()
    user = report.requested_by if report else None
    if user is None or not report.file or not user.is_active or not user.has_perm("reports.view_report"):
        return []
    context = {"report": report, "download_url": _url(reverse("report_download", args=[report.pk]))}
    return [Message(recipient=user.email, about=report, user=user, context=context)]


def _certificate_revoked_messages(certificate_id: int) -> list[Message]:
    from certificates.models import Certificate

    certificate = Certificate.objects.select_related("enrollment__learner").filter(pk=certificate_id).first()
    if certificate is None or certificate.status != Certificate.Status.REVOKED:
        return []
    learner = certificate.enrollment.learner
    context = {"certificate": certificate, "dashboard_url": _url(reverse("dashboard"))}
    return [Message(recipient=learner.email, about=certificate, user=learner, context=context)]


def _dedupe_key(kind: str, object_id: int, nonce: str, recipient: str) -> str:
    key = f"{kind}:{object_id}:{nonce}:{recipient.lower()}"
    return key if len(key) <= 200 else f"{kind}:{hashlib.sha256(key.encode()).hexdigest()}"


def render_text(template_name: str, context: dict) -> str:
    """A plain-text template rendered without HTML autoescaping.

    A subject or a text body is not HTML: escaped, a course called `Tom & "Jerry"` would arrive as
    `Tom &amp; &quot;Jerry&quot;`. Only the HTML alternative is escaped.
    """
    template = get_template(template_name).template  # the Django engine's own Template
    return template.render(Context(context, autoescape=False))


def render_email(kind: str, message: Message) -> EmailMultiAlternatives:
    """The email of `kind` for `message`: subject, plain text and HTML from templates."""
    context = {**message.context, "user": message.user, "SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}
    subject = " ".join(render_text(f"notifications/email/{kind}_subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject, render_text(f"notifications/email/{kind}.txt", context), to=[message.recipient]
    )
    email.attach_alternative(render_to_string(f"notifications/email/{kind}.html", context), "text/html")
    return email


def _row_for(kind: str, object_id: int, nonce: str, message: Message) -> Notification:
    key = _dedupe_key(kind, object_id, nonce, message.recipient)
    existing = Notification.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Notification.objects.create(
                kind=kind,
                dedupe_key=key,
                recipient=message.recipient,
                user=message.user,
                # Looked up, not taken from the per-process cache, which goes stale in a long-lived worker
                # when content types are recreated (a flush, a restored database).
                content_type=ContentType.objects.get(
                    app_label=message.about._meta.app_label, model=message.about._meta.model_name
                ),
                object_id=message.about.pk,
            )
    except IntegrityError:  # a concurrent duplicate of this task created it first
        return Notification.objects.get(dedupe_key=key)


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, AnymailRecipientsRefused):
        return False
    if isinstance(exc, AnymailRequestsAPIError):
        return exc.status_code is None or exc.status_code >= 500 or exc.status_code == 429
    if isinstance(exc, AnymailAPIError):
        return False
    return isinstance(exc, OSError)  # connection refused/reset, timeouts, SMTP disconnects


def _deliver(notification: Notification, kind: str, message: Message, *, force: bool = False) -> Notification:
    now = timezone.now()
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=notification.pk)
        if row.status == Notification.Status.SENT:
            return row
        if row.status == Notification.Status.SENDING and row.updated_at > now - SENDING_STALE_AFTER:
            return row  # a concurrent duplicate is sending it right now
        if row.status == Notification.Status.FAILED and not force:
            return row  # permanent failure: only staff's resend tries again
        row.status = Notification.Status.SENDING
        row.attempts += 1
        row.save(update_fields=["status", "attempts", "updated_at"])

    email = render_email(kind, message)
    try:
        email.send()
    except Exception as exc:
        transient = _is_transient(exc)
        Notification.objects.filter(pk=row.pk).update(
            status=Notification.Status.QUEUED if transient else Notification.Status.FAILED,
            subject=email.subject[:300],
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            updated_at=timezone.now(),
        )
        if transient:
            raise TransientEmailError(str(exc)) from exc
        logger.error("email %s to %s failed permanently: %s", kind, message.recipient, exc, exc_info=True)
        row.refresh_from_db()
        return row
    status = getattr(email, "anymail_status", None)
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.SENT,
        subject=email.subject[:300],
        provider_message_id=str(status.message_id) if status and status.message_id is not None else "",
        sent_at=timezone.now(),
        last_error="",
        updated_at=timezone.now(),
    )
    row.refresh_from_db()
    return row


def email_send(*, kind: str, object_id: int, nonce: str = "") -> list[Notification]:
    """Send the `kind` email about `object_id` to each recipient once; returns their rows.

    Raises TransientEmailError when a provider asked to try later (rows stay queued for the retry).
    """
    results, transient = [], None
    for message in _messages_for(kind, object_id):
        notification = _row_for(kind, object_id, nonce, message)
        try:
            results.append(_deliver(notification, kind, message))
        except TransientEmailError as exc:
            transient = exc
    if transient is not None:
        raise transient
    return results


def notification_resend(*, notification: Notification) -> None:
    """Staff's resend: queue the notification again, even if it failed permanently before."""
    from notifications.tasks.email import email_resend_task

    enqueue(email_resend_task, notification_id=notification.pk)


def email_resend(*, notification_id: int) -> Notification | None:
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.status == Notification.Status.SENT:
        return notification
    for message in _messages_for(notification.kind, notification.object_id):
        if message.recipient.lower() == notification.recipient.lower():
            return _deliver(notification, notification.kind, message, force=True)
    return notification


def retry_countdown(retries: int) -> int:
    """Exponential backoff with jitter, capped under the broker visibility timeout's budget."""
    return min(settings.CELERY_LONGEST_COUNTDOWN_SECONDS, 2 ** (retries + 1)) + random.randint(0, 3)  # noqa: S311
