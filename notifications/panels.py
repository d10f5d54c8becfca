"""What notifications adds to the staff page of one learner in a course (reports.panels): the emails sent
to the learner, and the webhook deliveries about their enrollment and certificate."""

from notifications.events import WEBHOOK_EVENTS
from notifications.models import Notification, WebhookDelivery
from reports.panels import Panel

LIMIT = 50


def emails_panel(enrollment, certificate) -> Panel:
    rows = Notification.objects.filter(user_id=enrollment.learner_id).order_by("-created_at", "-id")[:LIMIT]
    return Panel("Emails to the learner", "notifications/panels/emails.html", {"rows": list(rows)})


def webhooks_panel(enrollment, certificate) -> Panel:
    ids = {"enrollments.Enrollment": enrollment.pk}
    if certificate is not None:
        ids["certificates.Certificate"] = certificate.pk
    keys = [f"{kind.name}:{ids[kind.about]}" for kind in WEBHOOK_EVENTS if kind.about in ids]
    rows = (
        WebhookDelivery.objects.filter(event__dedupe_key__in=keys)
        .select_related("event", "endpoint")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    return Panel("Webhook deliveries about them", "notifications/panels/webhooks.html", {"rows": list(rows)})
