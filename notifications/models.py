"""Notifications: each email is a row with a dedupe key; each webhook event, delivery and attempt too."""

import base64
import secrets
import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from notifications.events import WEBHOOK_EVENT_CHOICES


class Notification(models.Model):
    """One email. The unique dedupe key is what makes a redelivered task send nothing twice."""

    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome"
        PASSWORD_RESET = "password_reset", "Password reset"
        ENROLLMENT_CONFIRMATION = "enrollment_confirmation", "Enrollment confirmation"
        CERTIFICATE_ISSUED = "certificate_issued", "Certificate issued"
        CERTIFICATE_REVOKED = "certificate_revoked", "Certificate revoked"
        WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled", "Webhook endpoint disabled"
        REPORT_READY = "report_ready", "Report ready"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=40, choices=Kind.choices, db_index=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    recipient = models.EmailField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="notifications_about"),
            models.Index(fields=["-created_at", "-id"], name="notifications_recent"),  # the admin's list (P11)
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notification_sent_has_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}"


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    # The secret replaced by the last rotation: deliveries are signed with it too until it expires, so a
    # receiver can switch to the new secret at its own pace (Standard Webhooks: several signatures).
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(default=list, help_text="Subscribed event types; empty means all.")
    is_active = models.BooleanField("active", default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def signing_secrets(self, at) -> list[str]:
        """The secrets a delivery made at `at` is signed with: the current one, then the previous one
        while its grace period lasts."""
        if self.previous_secret and self.previous_secret_expires_at and at < self.previous_secret_expires_at:
            return [self.secret, self.previous_secret]
        return [self.secret]


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEvent(models.Model):
    """A domain event to announce. `dedupe_key` (type and object) makes a re-run create nothing new."""

    event_id = models.CharField(max_length=64, unique=True, default=new_event_id, editable=False)
    event_type = models.CharField(max_length=40, choices=WEBHOOK_EVENT_CHOICES, db_index=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint. Its webhook-id (the event id) is the same on every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (gave up)"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        # The admin's list, newest first, over a year of deliveries (P11).
        indexes = [models.Index(fields=["-created_at", "-id"], name="webhooks_delivery_recent")]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhooks_one_delivery_per_event_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.event.event_type} to {self.endpoint.url}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}: {self.status_code or self.error[:40]}"
