"""The webhook event types: one table, from which everything else about them comes.

Each row names the event, the domain signal that raises it (and the signal's argument naming the object),
the model its fan-out job is about, and the builder of its payload. The model's choices, the API's and the
admin's choices, the receivers (notifications.receivers connects one per row) and the payloads all read
this table: a new event type is one row here (plus its builder in notifications.payloads) and the
migration its new choice makes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.dispatch import Signal

from certificates.signals import certificate_issued, certificate_revoked
from enrollments.signals import enrollment_completed, enrollment_created
from notifications import payloads


@dataclass(frozen=True)
class WebhookEventKind:
    name: str  # on the wire: the payload's "type" and the endpoints' subscriptions
    signal: Signal
    object_kwarg: str  # the signal's argument holding the object's id
    about: str  # "app_label.Model": what the fan-out job is about (jobs admin, per-object job lists)
    payload: Callable[[int], dict | None]


WEBHOOK_EVENTS: tuple[WebhookEventKind, ...] = (
    WebhookEventKind(
        "enrollment.created",
        enrollment_created,
        "enrollment_id",
        "enrollments.Enrollment",
        payloads.enrollment_data,
    ),
    WebhookEventKind(
        "enrollment.completed",
        enrollment_completed,
        "enrollment_id",
        "enrollments.Enrollment",
        payloads.enrollment_data,
    ),
    WebhookEventKind(
        "certificate.issued",
        certificate_issued,
        "certificate_id",
        "certificates.Certificate",
        payloads.certificate_data,
    ),
    WebhookEventKind(
        "certificate.revoked",
        certificate_revoked,
        "certificate_id",
        "certificates.Certificate",
        payloads.certificate_data,
    ),
)

_BY_NAME = {kind.name: kind for kind in WEBHOOK_EVENTS}
WEBHOOK_EVENT_NAMES = tuple(_BY_NAME)
# (value, label) pairs for model fields, forms and serializers.
WEBHOOK_EVENT_CHOICES = [(kind.name, kind.name) for kind in WEBHOOK_EVENTS]


def webhook_event_type(name: str) -> WebhookEventKind:
    """The row of event type `name`; ValueError for a name not in the table."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"Unknown webhook event type {name!r}") from None


def webhook_event_data(*, event_type: str, object_id: int) -> dict | None:
    """The payload's `data` for `event_type` about `object_id`; None when the object is gone."""
    return webhook_event_type(event_type).payload(object_id)
