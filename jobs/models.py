"""Operations: every background job, recorded by the enqueue seam in the same transaction as the change
that asked for it. The row is both what staff see (queued before any worker starts it) and the outbox
from which a relay republishes what the broker never received."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


def new_task_id() -> str:
    return str(uuid.uuid4())


class Job(models.Model):
    class Publish(models.TextChoices):
        PENDING = "pending", "Pending (not yet confirmed on the broker)"
        PUBLISHED = "published", "Published"
        DEAD = "dead", "Dead letter (gave up publishing)"

    # The Celery task id is chosen before publishing, so the row links to its TaskResult from the start.
    task_id = models.CharField(max_length=255, default=new_task_id)  # unique: Meta.constraints
    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=50)
    # Indexed by lms_job_about (content_type, object_id), whose first column it is.
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, db_index=False)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    triggered_by = models.CharField(max_length=120, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries", db_index=False
    )
    not_before = models.DateTimeField(null=True, blank=True, help_text="Countdown: not to run before this.")
    publish_state = models.CharField(max_length=16, choices=Publish.choices, default=Publish.PENDING)
    publish_attempts = models.PositiveIntegerField(default=0)
    next_publish_at = models.DateTimeField(null=True, blank=True)
    last_publish_error = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Published again by the reconciliation sweep (jobs.services.jobs_reconcile_lost): the broker lost it.
    reconciled_count = models.PositiveIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    # The W3C traceparent of the code that queued the job (jobs/tracing.py): its message is published under
    # it, also when the relay republishes it or the admin retries it, so the task joins the same trace.
    trace_context = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "lms_job"  # the tables keep the names they had in the lms app (jobs/migrations/0001)
        ordering = ["-created_at", "-id"]
        # Every request inserts a row, so each index is paid for there (docs/performance.md, finding 13): no
        # varchar_pattern_ops copies (nothing searches by prefix), and the outbox and retry indexes are
        # partial, so the millions of published, never-retried rows stay out of them.
        constraints = [models.UniqueConstraint(fields=["task_id"], name="lms_job_task_id_uniq")]
        indexes = [
            models.Index(
                fields=["publish_state", "next_publish_at"],
                condition=~models.Q(publish_state="published"),
                include=["created_at"],  # the health check's oldest pending job, from this index alone
                name="lms_job_outbox_unsettled",
            ),
            models.Index(fields=["content_type", "object_id"], name="lms_job_about"),
            models.Index(fields=["task_name", "-created_at"], name="lms_job_task_name_recent"),
            models.Index(fields=["retry_of"], condition=models.Q(retry_of__isnull=False), name="lms_job_retry_of"),
            # The operations page's "published again" summary and the admin's filter: the few reconciled jobs.
            models.Index(
                fields=["reconciled_at"], condition=models.Q(reconciled_count__gt=0), name="lms_job_reconciled"
            ),
        ]
        permissions = [
            ("retry_job", "Can retry failed background jobs"),
            ("view_operations", "Can view the operations page (jobs by state, queues, outbox)"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id[:8]}"


class Heartbeat(models.Model):
    """A long-running process saying it is alive: each worker, beat and outbox relay upserts its row every
    HEARTBEAT_INTERVAL_SECONDS. A clean stop deletes the row; a killed process leaves it to age, which the
    health checks (jobs.health) report as gone. Kept in the database, not Redis, so that a broker outage does
    not make every process look dead and the operations page can say which one was last seen when."""

    class Kind(models.TextChoices):
        WORKER = "worker", "Celery worker"
        BEAT = "beat", "Celery beat"
        RELAY = "relay", "Outbox relay"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="Worker node name, or host:pid for beat and the relay.")
    pid = models.PositiveIntegerField(null=True, blank=True)
    role = models.CharField(max_length=16, blank=True, help_text="Beat only: active (holds the lease) or standby.")
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "lms_heartbeat"
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="lms_heartbeat_kind_name")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Lease(models.Model):
    """A named lease: whoever holds it unexpired may act alone (beat: only the holder sends periodic tasks).

    Taken and renewed by one conditional UPDATE (holder is me, or the lease expired), so it works the same
    on PostgreSQL and SQLite. The holders' clocks must agree to well within the lease (NTP)."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()
    acquired_at = models.DateTimeField()

    class Meta:
        db_table = "lms_lease"

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder}"


class HealthIncident(models.Model):
    """A health check that turned to warning or error, open until it is ok again: staff are alerted once
    when it opens and once when it resolves, however many times the checks run meanwhile."""

    check_name = models.CharField(max_length=50)
    status = models.CharField(max_length=16, help_text="The worst status seen while open.")
    figure = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lms_healthincident"
        ordering = ["-opened_at"]
        # At most one open incident per check, whoever runs the checks (the task, the relay, both at once).
        constraints = [
            models.UniqueConstraint(
                fields=["check_name"], condition=models.Q(resolved_at__isnull=True), name="lms_one_open_incident"
            )
        ]
        permissions = [("receive_alerts", "Receives health alerts by email")]

    def __str__(self) -> str:
        return f"{self.check_name} {self.status} since {self.opened_at:%Y-%m-%d %H:%M}"


class Operation(models.Model):
    """A long operation staff or an API client follow: a report, an import, a course recompute.

    Like Canvas's Progress: a kind, a state, a completion percentage, a message, timestamps, who started it
    and, when done, a result URL. Its owner app writes its progress (jobs.operations.ProgressReporter: on
    whole-percent changes, never per row) and the API, the admin and the staff pages all read this row.
    Cancelling ends the row at once; the task finds its next progress write refused and stops.

    One at a time: at most one queued or running operation per (kind, subject), a partial unique index,
    so two requests at once get one operation and the second is told about the first.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (State.QUEUED, State.RUNNING)

    kind = models.CharField(max_length=50, db_index=True)
    subject = models.CharField(max_length=200, blank=True, help_text="What one-at-a-time is about.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    completion = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    result_url = models.CharField(max_length=500, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Who may see an operation is decided by its kind (jobs.operations.operation_kind), not by model
        # permissions of its own.
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=models.Q(state__in=["queued", "running"]) & ~models.Q(subject=""),
                name="jobs_operation_one_active",
            ),
            models.CheckConstraint(condition=models.Q(completion__lte=100), name="jobs_operation_completion_max"),
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "completed", "failed", "cancelled"]),
                name="jobs_operation_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state not in self.ACTIVE
