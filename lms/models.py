"""Operations: every background job, recorded by the enqueue seam in the same transaction as the change
that asked for it. The row is both what staff see (queued before any worker starts it) and the outbox
from which a relay republishes what the broker never received."""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


def new_task_id() -> str:
    return str(uuid.uuid4())


class Job(models.Model):
    class Publish(models.TextChoices):
        PENDING = "pending", "Pending (not yet on the broker)"
        PUBLISHED = "published", "Published"
        DEAD = "dead", "Dead letter (gave up publishing)"

    # The Celery task id is chosen before publishing, so the row links to its TaskResult from the start.
    task_id = models.CharField(max_length=255, unique=True, default=new_task_id)
    task_name = models.CharField(max_length=200, db_index=True)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=50)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    triggered_by = models.CharField(max_length=120, blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    not_before = models.DateTimeField(null=True, blank=True, help_text="Countdown: not to run before this.")
    publish_state = models.CharField(max_length=16, choices=Publish.choices, default=Publish.PENDING)
    publish_attempts = models.PositiveIntegerField(default=0)
    next_publish_at = models.DateTimeField(null=True, blank=True)
    last_publish_error = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Published again by the reconciliation sweep (lms.services.jobs_reconcile_lost): the broker lost it.
    reconciled_count = models.PositiveIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    # The W3C traceparent of the code that queued the job (lms/tracing.py): its message is published under
    # it, also when the relay republishes it or the admin retries it, so the task joins the same trace.
    trace_context = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["publish_state", "next_publish_at"], name="lms_job_outbox"),
            models.Index(fields=["content_type", "object_id"], name="lms_job_about"),
        ]
        permissions = [
            ("retry_job", "Can retry failed background jobs"),
            ("view_operations", "Can view the operations page (jobs by state, queues, outbox)"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id[:8]}"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed for the same key and user."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)  # null while in progress
    response_headers = models.JSONField(default=dict)
    response_body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="lms_idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"
