"""Reads of the notifications app: webhook endpoints, events and deliveries."""

from django.db.models import QuerySet

from notifications.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES_LIMIT = 20


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("url", "id")


def webhook_endpoints_for_event(*, event_type: str) -> list[WebhookEndpoint]:
    """The active endpoints subscribed to `event_type`.

    Subscriptions are a JSON list, and SQLite has no JSON "contains" lookup, so the (few) active endpoints
    are filtered here rather than in SQL.
    """
    return [e for e in WebhookEndpoint.objects.filter(is_active=True).order_by("id") if e.subscribes_to(event_type)]


def webhook_event_has_subscribers(*, event_type: str) -> bool:
    """Whether any active endpoint wants `event_type` (one query), so bulk work can skip the fan-out."""
    return bool(webhook_endpoints_for_event(event_type=event_type))


def webhook_delivery_list(*, status: str | None = None, endpoint_id: int | None = None) -> QuerySet[WebhookDelivery]:
    """Deliveries, newest first, with their event, endpoint and attempts (one query for all attempts)."""
    deliveries = (
        WebhookDelivery.objects.select_related("event", "endpoint")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )
    if status:
        deliveries = deliveries.filter(status=status)
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    return deliveries


def webhook_delivery_ids_recent_for_endpoint(*, endpoint_id: int, limit: int = RECENT_DELIVERIES_LIMIT) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )
