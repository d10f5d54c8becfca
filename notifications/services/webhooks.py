"""Writes and side effects of outgoing webhooks: endpoints, events, fan-out, delivery, retries.

The database decides every step: one event per (type, object) and one delivery per (event, endpoint) are
unique constraints, and a delivery's row lock decides who sends it. A delivery's state machine:

    pending --claim--> delivering --2xx--> succeeded
                           |--failure--> retrying --(due; the sweeper)--> pending ...
                           |--410 Gone, or the last scheduled retry failed--> failed

`next_attempt_at` is when the sweeper next looks at the row: for `retrying` the scheduled retry, for
`pending` and `delivering` a lease after which the queued message (or the worker running it) is presumed
lost and the delivery is queued again. Nothing is scheduled with a Celery countdown: a retry hours away
lives in the database, not in the broker.

The HTTP request is made outside any transaction, between a short claim transaction and a short record
transaction, so no row lock is held while a slow receiver keeps us waiting.
"""

import json
import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from lms.tasks import enqueue
from notifications import selectors
from notifications.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from notifications.ssrf import DEFAULT_PORTS, IPAddress, UnsafeURL, check_url

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, ... failed attempt; after the last one fails the delivery is given up.
RETRY_SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS) + 1
RETRY_JITTER = 0.10  # +-10%, so endpoints that failed together do not all retry in the same second
RETRY_AFTER_CAP_SECONDS = 24 * 3600
RETRY_AFTER_STATUSES = (429, 503)

# The delivery task's limits (notifications.tasks.webhooks). They must stay above the longest a send can
# take: connect + read (response headers) + read (the last body chunk), 3 + 10 + 10 s by default.
# Read once at import because the task decorator needs them; the fault suite lowers the soft limit.
DELIVER_SOFT_TIME_LIMIT = settings.WEBHOOK_TASK_SOFT_TIME_LIMIT
DELIVER_TIME_LIMIT = DELIVER_SOFT_TIME_LIMIT + 10
# A delivery still "delivering" this long after its claim was being sent by a worker that died.
DELIVERING_LEASE = timedelta(seconds=DELIVER_TIME_LIMIT + 20)
# A "pending" delivery whose message has not run within this is presumed lost (a broker outage at publish
# time) and queued again by the sweeper. Well above normal queueing delay: a duplicate is harmless (the
# row lock) but wasted work.
PENDING_LEASE = timedelta(minutes=10)
SWEEP_BATCH = 500

TEST_EVENT_TYPE = "webhook.test"
EXCERPT_NOTE_LIMIT = 2000


# --- Endpoints ------------------------------------------------------------------------------------


def webhook_url_validate(url: str) -> None:
    """Raise ValidationError({"url": ...}) unless the SSRF guard accepts `url`."""
    try:
        check_url(url)
    except UnsafeURL as exc:
        raise ValidationError({"url": str(exc)}) from None


def _event_types_clean(event_types) -> list[str]:
    event_types = list(event_types or [])
    unknown = sorted(set(event_types) - set(WebhookEventType.values))
    if unknown:
        raise ValidationError({"event_types": f"Unknown event types: {', '.join(unknown)}."})
    return sorted(set(event_types))


def webhook_endpoint_create(
    *, url: str, description: str = "", event_types=None, is_active: bool = True
) -> WebhookEndpoint:
    """Create an endpoint (active unless asked otherwise) with a new signing secret. Resolves the URL's host
    (SSRF guard)."""
    webhook_url_validate(url)
    endpoint = WebhookEndpoint(
        url=url.strip(), description=description, event_types=_event_types_clean(event_types), is_active=is_active
    )
    endpoint.full_clean(exclude=["event_types"])  # checked above; the model calls [] blank
    endpoint.save()
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    """Apply `data` (url, description, event_types, is_active) to `endpoint`.

    A changed URL passes the SSRF guard again. Re-activating a disabled endpoint clears its disabled
    state and failure count; deactivating it by hand records who-knows-why as "disabled by staff".
    """
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
        if data["is_active"] and (endpoint.disabled_at is not None or not endpoint.is_active):
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
        elif not data["is_active"] and endpoint.disabled_at is None:
            endpoint.disabled_at = timezone.now()
            endpoint.disabled_reason = endpoint.disabled_reason or "Disabled by staff."
        endpoint.is_active = bool(data["is_active"])
        fields |= {"is_active", "consecutive_failures", "disabled_at", "disabled_reason"}
    endpoint.full_clean(exclude=["event_types"])  # checked above; the model calls [] blank
    endpoint.save(update_fields=sorted(fields))
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts (events stay: other endpoints share them)."""
    endpoint.delete()


def _endpoint_disable(*, endpoint_id: int, reason: str) -> bool:
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


# --- Events and fan-out ---------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _enrollment_data(object_id: int) -> dict | None:
    from enrollments.models import Enrollment

    enrollment = Enrollment.objects.select_related("learner", "course").filter(pk=object_id).first()
    if enrollment is None:
        return None
    return {
        "enrollment_id": enrollment.pk,
        "learner_id": enrollment.learner_id,
        "learner_email": enrollment.learner.email,
        "course_slug": enrollment.course.slug,
        "course_title": enrollment.course.title,
        "status": enrollment.status,
        "progress_percent": enrollment.progress_percent,
        "completed_at": enrollment.completed_at.isoformat() if enrollment.completed_at else None,
        "course_url": _absolute(enrollment.course.get_absolute_url()),
        "enrollment_api_url": _absolute(reverse("api-enrollment-detail", kwargs={"pk": enrollment.pk})),
    }


def _certificate_data(object_id: int) -> dict | None:
    from certificates.models import Certificate

    certificate = (
        Certificate.objects.select_related("enrollment__learner", "enrollment__course").filter(pk=object_id).first()
    )
    if certificate is None:
        return None
    return {
        "certificate_id": certificate.pk,
        "enrollment_id": certificate.enrollment_id,
        "learner_email": certificate.enrollment.learner.email,
        "course_slug": certificate.enrollment.course.slug,
        "status": certificate.status,
        "issued_at": certificate.issued_at.isoformat() if certificate.issued_at else None,
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "verification_url": certificate.get_verification_url(),
    }


def webhook_event_data(*, event_type: str, object_id: int) -> dict | None:
    """The small `data` of an event: ids, emails, slugs, status and URLs, never whole objects.

    None when the object no longer exists (deleted before the fan-out ran).
    """
    if event_type.startswith("enrollment."):
        return _enrollment_data(object_id)
    if event_type.startswith("certificate."):
        return _certificate_data(object_id)
    raise ValueError(f"Unknown webhook event type {event_type!r}")


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


def _deliver_later(delivery_ids) -> None:
    from notifications.tasks.webhooks import webhook_deliver_task

    for delivery_id in delivery_ids:
        enqueue(webhook_deliver_task, delivery_id=delivery_id)


def webhook_event_fanout(*, event_type: str, object_id: int) -> WebhookEvent | None:
    """Record the event of `event_type` about `object_id`, one delivery per subscribed active endpoint,
    and queue the pending deliveries.

    Idempotent: the event's dedupe key is "<type>:<id>" and deliveries are unique per (event, endpoint),
    so a rerun creates nothing and at most re-queues deliveries still pending (a duplicate message is
    harmless: the delivery's row lock). Returns None, creating nothing, when no endpoint subscribes or
    the object is gone.
    """
    if event_type not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
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
    _deliver_later(d.pk for d in deliveries if d.status == WebhookDelivery.Status.PENDING)
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
        _deliver_later([delivery.pk])
    return delivery


# --- Delivery -------------------------------------------------------------------------------------


@dataclass
class SendResult:
    status_code: int | None = None
    body: bytes = b""
    headers: Mapping[str, str] | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_body(event: WebhookEvent) -> str:
    """The exact text that is signed and sent: compact JSON of the stored payload, the same every time."""
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True)


def webhook_headers(*, endpoint: WebhookEndpoint, event: WebhookEvent, body: str, at: datetime) -> dict:
    """Standard Webhooks headers for one attempt: the id is the event's (stable across retries), the
    timestamp is the attempt's, the signature covers both and the body."""
    at = at.astimezone(UTC).replace(microsecond=0)
    return {
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(event.event_id, at, body),
        "Content-Type": "application/json",
        "User-Agent": f"{settings.SITE_NAME}-Webhooks/1.0",
    }


def _host_header(host: str, scheme: str, port: int) -> str:
    name = f"[{host}]" if ":" in host else host
    return name if port == DEFAULT_PORTS[scheme] else f"{name}:{port}"


def _pool(scheme: str, ip: IPAddress, port: int, host: str, timeout: urllib3.Timeout):
    # Connect to the checked address itself: the host name is not resolved again, so a DNS answer that
    # changed since the check (rebinding) is never used. TLS still verifies the certificate against the
    # host name (SNI and hostname check), as a client resolving normally would.
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(ip),
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=host,
            assert_hostname=host,
        )
    return urllib3.HTTPConnectionPool(str(ip), port, timeout=timeout, retries=False, maxsize=1)


def _read_capped(response, *, cap: int, deadline: float) -> bytes:
    """At most `cap` bytes of the body, and no reading past `deadline`: a receiver that trickles bytes
    cannot hold the worker for (cap x read timeout)."""
    chunks, size = [], 0
    while size < cap and time.monotonic() < deadline:
        chunk = response.read1(min(1024, cap - size))  # at most one recv, each within the read timeout
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def webhook_http_post(*, url: str, body: bytes, headers: dict) -> SendResult:
    """POST `body` to `url`, refusing unsafe addresses, without redirects or retries; never raises.

    The host is resolved once and every address checked (notifications.ssrf); the connection goes to a
    checked address, the next one only when the previous refused the connection. Timeouts and the
    response cap come from settings.
    """
    started = time.monotonic()
    result = SendResult()
    try:
        ips = check_url(url)
    except UnsafeURL as exc:
        result.error = f"Refused: {exc}"
        return result
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname if ":" in parts.hostname else parts.hostname.encode("idna").decode("ascii")
    port = parts.port or DEFAULT_PORTS[scheme]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connect_timeout, read_timeout = settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    headers = {**headers, "Host": _host_header(host, scheme, port)}
    try:
        for index, ip in enumerate(ips):
            pool = _pool(scheme, ip, port, host, timeout)
            try:
                response = pool.urlopen(
                    "POST", path, body=body, headers=headers, redirect=False, retries=False, preload_content=False
                )
            except urllib3.exceptions.NewConnectionError:
                # Only a refused or unreachable connection moves on: nothing was sent, so no duplicate.
                pool.close()
                if index + 1 < len(ips) and time.monotonic() - started < connect_timeout:
                    continue
                raise
            try:
                result.status_code = response.status
                result.headers = response.headers  # case-insensitive: "retry-after" is "Retry-After"
                # One budget for the whole send; the last read may still take up to the read timeout.
                deadline = started + connect_timeout + read_timeout
                result.body = _read_capped(response, cap=settings.WEBHOOK_RESPONSE_CAP_BYTES, deadline=deadline)
            finally:
                response.release_conn()
                pool.close()
            break
    except Exception as exc:  # timeouts, resets, TLS errors, the task's soft time limit: all are a failed attempt
        result.error = f"{type(exc).__name__}: {exc}"
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now, capped at 24 h; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or timezone.now())).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def retry_delay_seconds(attempts: int) -> float | None:
    """The jittered wait after `attempts` failed attempts, or None when the schedule is exhausted."""
    if attempts > len(RETRY_SCHEDULE_SECONDS):
        return None
    base = RETRY_SCHEDULE_SECONDS[attempts - 1]
    return base * random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)  # noqa: S311 - jitter, not a secret


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
        endpoint_id = delivery.endpoint_id
        if result.ok:
            delivery.delivered_at = now
            _finish(delivery, status=WebhookDelivery.Status.SUCCEEDED)
            WebhookEndpoint.objects.filter(pk=endpoint_id).exclude(consecutive_failures=0).update(
                consecutive_failures=0, updated_at=now
            )
            return delivery

        error = result.error or f"HTTP {result.status_code}: {excerpt[:200]}".strip()
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(
            consecutive_failures=F("consecutive_failures") + 1, updated_at=now
        )
        failures = WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(pk=endpoint_id)

        if result.status_code == 410:
            _endpoint_disable(endpoint_id=endpoint_id, reason="The receiver answered 410 Gone.")
            _finish(delivery, status=WebhookDelivery.Status.FAILED, error=error)
            return delivery
        if failures >= settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES:
            _endpoint_disable(endpoint_id=endpoint_id, reason=f"{failures} consecutive failed attempts.")

        delay = retry_delay_seconds(delivery.attempts)
        if delay is None:
            _finish(delivery, status=WebhookDelivery.Status.FAILED, error=error)
            return delivery
        if result.status_code in RETRY_AFTER_STATUSES:
            asked = retry_after_seconds((result.headers or {}).get("Retry-After"), now=now)
            delay = asked if asked is not None else delay
        _finish(
            delivery,
            status=WebhookDelivery.Status.RETRYING,
            error=error,
            next_attempt_at=now + timedelta(seconds=delay),
        )
    return delivery


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
            _deliver_later([delivery.pk])
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
        _deliver_later(ids)
    return ids
