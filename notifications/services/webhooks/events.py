"""Events and their fan-out: one event per (type, object), one delivery per (event, subscribed endpoint),
the pending ones queued; and the test event an endpoint's owner sends to itself."""

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import selectors
from notifications.events import webhook_event_data, webhook_event_type
from notifications.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.services.webhooks.delivery import deliver_later
from notifications.services.webhooks.retries import PENDING_LEASE

logger = logging.getLogger(__name__)

TEST_EVENT_TYPE = "webhook.test"


def _delivery_get_or_create(*, event: WebhookEvent, endpoint: WebhookEndpoint) -> WebhookDelivery:
    existing = WebhookDelivery.objects.filter(event=event, endpoint=endpoint).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(
                event=event, endpoint=endpoint, next_attempt_at=timezone.now() + PENDING_LEASE
            )
    except IntegrityError:  # a concurrent fan-out of the same event created it first
        return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def webhook_event_fanout(*, event_type: str, object_id: int) -> WebhookEvent | None:
    """Record the event of `event_type` about `object_id`, one delivery per subscribed active endpoint,
    and queue the pending deliveries.

    Idempotent: the event's dedupe key is "<type>:<id>" and deliveries are unique per (event, endpoint),
    so a rerun creates nothing and at most re-queues deliveries still pending (a duplicate message is
    harmless: the delivery's row lock). Returns None, creating nothing, when no endpoint subscribes or
    the object is gone.
    """
    webhook_event_type(event_type)  # ValueError for a type not in the table
    dedupe_key = f"{event_type}:{object_id}"
    endpoints = selectors.webhook_endpoints_for_event(event_type=event_type)
    event = WebhookEvent.objects.filter(dedupe_key=dedupe_key).first()
    if event is None:
        if not endpoints:
            return None
        data = webhook_event_data(event_type=event_type, object_id=object_id)
        if data is None:
            logger.info("webhook event %s skipped: the object is gone", dedupe_key)
            return None
        payload = {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(event_type=event_type, dedupe_key=dedupe_key, payload=payload)
        except IntegrityError:  # a concurrent run of the same fan-out created it first
            event = WebhookEvent.objects.get(dedupe_key=dedupe_key)
    deliveries = [_delivery_get_or_create(event=event, endpoint=endpoint) for endpoint in endpoints]
    deliver_later(d.pk for d in deliveries if d.status == WebhookDelivery.Status.PENDING)
    return event


def webhook_send_test_event(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a "webhook.test" event to `endpoint` alone (a new event each time), through the same
    signing, delivery and retry path as real events."""
    if not endpoint.is_active:
        raise ValidationError("The endpoint is disabled; re-activate it before sending a test event.")
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            event_type=TEST_EVENT_TYPE,
            dedupe_key=f"{TEST_EVENT_TYPE}:{endpoint.pk}:{uuid.uuid4().hex}",
            payload={
                "type": TEST_EVENT_TYPE,
                "timestamp": timezone.now().isoformat(),
                "data": {"endpoint_id": endpoint.pk, "message": f"A test event from {settings.SITE_NAME}."},
            },
        )
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, next_attempt_at=timezone.now() + PENDING_LEASE
        )
        deliver_later([delivery.pk])
    return delivery
