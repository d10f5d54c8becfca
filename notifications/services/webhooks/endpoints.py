"""Writes of webhook endpoints: create, change, delete, and rotate their signing secrets.

Every URL passes the SSRF guard (notifications.http.ssrf) when it is saved; delivery checks it again at send
time (notifications.http.sender)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.events import WEBHOOK_EVENT_NAMES
from notifications.http.ssrf import UnsafeURL, check_url
from notifications.models import WebhookEndpoint, new_webhook_secret

logger = logging.getLogger(__name__)


def webhook_url_validate(url: str) -> None:
    """Raise ValidationError({"url": ...}) unless the SSRF guard accepts `url`."""
    try:
        check_url(url)
    except UnsafeURL as exc:
        raise ValidationError({"url": str(exc)}) from None


def _event_types_clean(event_types) -> list[str]:
    event_types = list(event_types or [])
    unknown = sorted(set(event_types) - set(WEBHOOK_EVENT_NAMES))
    if unknown:
        raise ValidationError({"event_types": f"Unknown event types: {', '.join(unknown)}."})
    return sorted(set(event_types))


def _active_set(endpoint: WebhookEndpoint, is_active: bool) -> None:
    """Switch `endpoint` on or off by hand: switching on clears the disabled state and failure count,
    switching off records it as "disabled by staff" (unless a reason is already recorded)."""
    if is_active and (endpoint.disabled_at is not None or not endpoint.is_active):
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    elif not is_active and endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = endpoint.disabled_reason or "Disabled by staff."
    endpoint.is_active = bool(is_active)


def webhook_endpoint_create(
    *, url: str, description: str = "", event_types=None, is_active: bool = True
) -> WebhookEndpoint:
    """Create an endpoint with a new signing secret, active unless `is_active` is False. Resolves the
    URL's host (SSRF guard)."""
    webhook_url_validate(url)
    endpoint = WebhookEndpoint(url=url.strip(), description=description, event_types=_event_types_clean(event_types))
    if not is_active:
        _active_set(endpoint, False)
    endpoint.full_clean(exclude=["event_types"])  # checked above; the model calls [] blank
    endpoint.save()
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    """Apply `data` (url, description, event_types, is_active) to `endpoint`: a key that is absent
    leaves its field alone (callers replacing the whole endpoint pass every key).

    A changed URL passes the SSRF guard again. Re-activating a disabled endpoint clears its disabled
    state and failure count; deactivating it by hand records it as "disabled by staff". The secret is
    not among the fields: it changes only by rotation (webhook_endpoint_secret_rotate).
    """
    unknown = set(data) - {"url", "description", "event_types", "is_active"}
    if unknown:
        raise ValueError(f"webhook_endpoint_update cannot change {', '.join(sorted(unknown))}")
    fields = {"updated_at"}
    if "url" in data:
        webhook_url_validate(data["url"])
        endpoint.url = data["url"].strip()
        fields.add("url")
    if "description" in data:
        endpoint.description = data["description"]
        fields.add("description")
    if "event_types" in data:
        endpoint.event_types = _event_types_clean(data["event_types"])
        fields.add("event_types")
    if "is_active" in data:
        _active_set(endpoint, data["is_active"])
        fields |= {"is_active", "consecutive_failures", "disabled_at", "disabled_reason"}
    endpoint.full_clean(exclude=["event_types"])  # checked above; the model calls [] blank
    endpoint.save(update_fields=sorted(fields))
    return endpoint


def webhook_secret_grace() -> timedelta:
    return timedelta(hours=settings.WEBHOOK_SECRET_ROTATION_GRACE_HOURS)


def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give `endpoint` a new signing secret; the replaced one keeps signing (a second `v1,` signature on
    every delivery) for WEBHOOK_SECRET_ROTATION_GRACE_HOURS, so receivers can switch without a gap.

    A second rotation within the grace period replaces the previous secret with the one it retires: only
    the last two secrets ever sign. Returns the endpoint with its new secret.
    """
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + webhook_secret_grace()
        endpoint.secret = new_webhook_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    logger.info("webhook endpoint %s: secret rotated", endpoint.pk)
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts (events stay: other endpoints share them)."""
    endpoint.delete()


def endpoint_disable(*, endpoint_id: int, reason: str) -> bool:
    """Disable an active endpoint and ask for the staff email; False when it was already disabled.

    Called inside the record transaction: the email is requested (queued after commit) only by the
    attempt that actually flipped the endpoint, so a burst of failures sends one email.
    """
    now = timezone.now()
    flipped = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:300], updated_at=now
    )
    if flipped:
        from notifications.services.email import email_request

        logger.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
        email_request(kind="webhook_endpoint_disabled", object_id=endpoint_id, nonce=now.isoformat())
    return bool(flipped)
