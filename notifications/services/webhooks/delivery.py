"""Delivering one event to one endpoint: claim (a short transaction under the row lock), sign and send
(outside any transaction), record the attempt and decide what follows (another short transaction)."""

import json
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from jobs.enqueue import enqueue
from notifications.http.sender import SendResult, webhook_http_post
from notifications.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.services.webhooks.endpoints import endpoint_disable
from notifications.services.webhooks.retries import (
    DELIVERING_LEASE,
    MAX_ATTEMPTS,
    PENDING_LEASE,
    RETRY_AFTER_STATUSES,
    SWEEP_BATCH,
    retry_after_seconds,
    retry_delay_seconds,
)

logger = logging.getLogger(__name__)

EXCERPT_NOTE_LIMIT = 2000


def deliver_later(delivery_ids) -> None:
    from notifications.tasks.webhooks import webhook_deliver_task

    for delivery_id in delivery_ids:
        enqueue(webhook_deliver_task, delivery_id=delivery_id)


def webhook_body(event: WebhookEvent) -> str:
    """The exact text that is signed and sent: compact JSON of the stored payload, the same every time."""
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True)


def webhook_headers(*, endpoint: WebhookEndpoint, event: WebhookEvent, body: str, at: datetime) -> dict:
    """Standard Webhooks headers for one attempt: the id is the event's (stable across retries), the
    timestamp is the attempt's, the signature covers both and the body.

    `webhook-signature` holds one `v1,` signature per signing secret, space-separated: the current
    secret's, and during a rotation's grace period the previous secret's too (a receiver verifies if any
    one matches).
    """
    secrets = endpoint.signing_secrets(at)
    at = at.astimezone(UTC).replace(microsecond=0)
    signatures = [Webhook(secret).sign(event.event_id, at, body) for secret in secrets]
    return {
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "Content-Type": "application/json",
        "User-Agent": f"{settings.SITE_NAME}-Webhooks/1.0",
    }


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Lock the delivery and mark it delivering if it should be sent now; None when it should not."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None
        status = delivery.status
        if status in (WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED):
            return None  # a succeeded delivery is never sent again
        if status in (WebhookDelivery.Status.DELIVERING, WebhookDelivery.Status.RETRYING) and (
            delivery.next_attempt_at is None or delivery.next_attempt_at > now
        ):
            return None  # another worker is sending it, or a stale duplicate message of a retry not yet due
        if not delivery.endpoint.is_active:
            _finish(delivery, status=WebhookDelivery.Status.FAILED, error="The endpoint is disabled.")
            return None
        if delivery.attempts >= MAX_ATTEMPTS:
            _finish(delivery, status=WebhookDelivery.Status.FAILED, error=delivery.last_error or "Gave up.")
            return None
        delivery.status = WebhookDelivery.Status.DELIVERING
        delivery.attempts += 1
        delivery.next_attempt_at = now + DELIVERING_LEASE
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    return delivery


def _finish(delivery: WebhookDelivery, *, status: str, error: str = "", next_attempt_at=None) -> None:
    delivery.status = status
    delivery.next_attempt_at = next_attempt_at
    delivery.last_error = error[:EXCERPT_NOTE_LIMIT]
    delivery.save(
        update_fields=["status", "next_attempt_at", "last_error", "last_status_code", "delivered_at", "updated_at"]
    )


def _record(delivery: WebhookDelivery, result: SendResult) -> WebhookDelivery | None:
    """Log the attempt and move the delivery (and its endpoint's failure count) on from it."""
    now = timezone.now()
    excerpt = result.body.decode("utf-8", errors="replace")
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=delivery.pk)
            .first()
        )
        if delivery is None:  # its endpoint was deleted while we were sending
            return None
        WebhookAttempt.objects.create(
            delivery=delivery,
            status_code=result.status_code,
            response_excerpt=excerpt,
            error=result.error[:EXCERPT_NOTE_LIMIT],
            duration_ms=result.duration_ms,
        )
        delivery.last_status_code = result.status_code
        if result.ok:
            delivery.delivered_at = now
            _finish(delivery, status=WebhookDelivery.Status.SUCCEEDED)
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).exclude(consecutive_failures=0).update(
                consecutive_failures=0, updated_at=now
            )
            return delivery

        _failed(delivery, result, excerpt, now)
    return delivery


def _failed(delivery: WebhookDelivery, result: SendResult, excerpt: str, now) -> None:
    """A failed attempt: count it against the endpoint (disabling it at the limit or on 410 Gone), then
    schedule the next attempt or give up."""
    endpoint_id = delivery.endpoint_id
    error = result.error or f"HTTP {result.status_code}: {excerpt[:200]}".strip()
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(
        consecutive_failures=F("consecutive_failures") + 1, updated_at=now
    )
    failures = WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(pk=endpoint_id)

    if result.status_code == 410:
        endpoint_disable(endpoint_id=endpoint_id, reason="The receiver answered 410 Gone.")
        _finish(delivery, status=WebhookDelivery.Status.FAILED, error=error)
        return
    if failures >= settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES:
        endpoint_disable(endpoint_id=endpoint_id, reason=f"{failures} consecutive failed attempts.")

    delay = retry_delay_seconds(delivery.attempts)
    if delay is None:
        _finish(delivery, status=WebhookDelivery.Status.FAILED, error=error)
        return
    if result.status_code in RETRY_AFTER_STATUSES:
        asked = retry_after_seconds((result.headers or {}).get("Retry-After"), now=now)
        delay = asked if asked is not None else delay
    _finish(
        delivery,
        status=WebhookDelivery.Status.RETRYING,
        error=error,
        next_attempt_at=now + timedelta(seconds=delay),
    )


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt at the delivery if it is due: sign, POST, log a WebhookAttempt, then mark it
    succeeded, retrying (with `next_attempt_at`) or failed.

    Side effects: an HTTP request to the endpoint; on failure the endpoint's failure count grows and may
    disable it (then staff are emailed); on success the count resets. Safe to call twice at once: the row
    lock lets one caller send and the other return without sending. Returns the delivery (None if gone).
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return WebhookDelivery.objects.filter(pk=delivery_id).first()
    body = webhook_body(delivery.event)
    headers = webhook_headers(endpoint=delivery.endpoint, event=delivery.event, body=body, at=timezone.now())
    result = webhook_http_post(url=delivery.endpoint.url, body=body.encode("utf-8"), headers=headers)
    return _record(delivery, result)


def webhook_redeliver(*, delivery: WebhookDelivery) -> bool:
    """Reset a failed, retrying or pending delivery to a fresh schedule and queue it now; False (nothing
    done) for a succeeded delivery, one being sent, or one whose endpoint is disabled."""
    with transaction.atomic():
        updated = (
            WebhookDelivery.objects.filter(pk=delivery.pk, endpoint__is_active=True)
            # Never a succeeded one (never sent twice), nor one a worker is sending right now.
            .exclude(status__in=[WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.DELIVERING])
            .update(
                status=WebhookDelivery.Status.PENDING,
                attempts=0,
                next_attempt_at=timezone.now() + PENDING_LEASE,
                updated_at=timezone.now(),
            )
        )
        if updated:
            deliver_later([delivery.pk])
    return bool(updated)


def webhook_due_claim(*, limit: int = SWEEP_BATCH) -> list[int]:
    """Claim deliveries that are due and queue them; returns their ids. Run by the beat sweeper.

    Due: a retry whose time has come, a pending delivery whose message was presumed lost, and one stuck
    "delivering" past the task's hard time limit (its worker was killed; the lost attempt is logged).
    Claiming moves them to pending with a fresh lease in one transaction; on PostgreSQL, rows another
    sweeper has locked are skipped (SKIP LOCKED), so two sweepers never queue the same delivery.
    """
    now = timezone.now()
    due = Q(
        status__in=[
            WebhookDelivery.Status.PENDING,
            WebhookDelivery.Status.RETRYING,
            WebhookDelivery.Status.DELIVERING,
        ],
        next_attempt_at__lte=now,
    )
    with transaction.atomic():
        rows = WebhookDelivery.objects.filter(due).order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        # SQLite has no row locks: its IMMEDIATE transactions (settings) serialize sweepers instead.
        claimed = list(rows.values_list("pk", "status")[:limit])
        ids = [pk for pk, _status in claimed]
        if not ids:
            return []
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(delivery_id=pk, error="The worker sending this attempt stopped before it finished.")
            for pk, status in claimed
            if status == WebhookDelivery.Status.DELIVERING
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=now + PENDING_LEASE, updated_at=now
        )
        deliver_later(ids)
    return ids
