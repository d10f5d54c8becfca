"""Bulk enrollment imports: the uploaded file's job, the rows it applied and the rows it refused.

The tables keep the names they had when imports lived in the enrollments app (issue 17 moved them here).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from enrollments.models import Enrollment


class ImportJob(models.Model):
    """A bulk enrollment from an uploaded CSV (email, full_name, course, optional send_welcome).

    The upload is checked in the request (size first, then the head of the file) and stored; a task on the
    `imports` queue then reads the whole file once (validating: every byte decodes and parses, rows are
    counted) before writing anything, and applies it in chunks. Each chunk is one transaction that also
    advances the resume point (`resume_offset`, a byte offset, with `rows_done`), under this row's lock:
    a chunk is applied entirely or not at all, a rerun after a crash starts at the last committed chunk,
    and a duplicate run of the task finds the resume point moved and stops.

    Notifications are batched behind the import, not inside it: each chunk commit makes sure one
    `enrollments.import_notify` run is queued (the `notify_requested_at` marker); that run walks the
    applied rows from `notified_through_row` in batches and sends `enrollments_imported` once per batch
    (welcome mail for new users goes to the `email_bulk` queue, `enrollment.created` webhooks through the
    usual fan-out). So a 100k-row import neither waits on 200k queue writes nor puts anything ahead of a
    password reset on the `email` queue, and at most one notify message per import is waiting at a time.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        VALIDATING = "validating", "Validating"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    sha256 = models.CharField(max_length=64, db_index=True)
    delimiter = models.CharField(max_length=1, default=",")
    header = models.JSONField(default=list, help_text="Column names as found in the file.")
    send_welcome = models.BooleanField(default=True, help_text="For rows without a send_welcome value.")
    # Kept from the settings at upload: a resume goes on in the steps it started with.
    chunk_rows = models.PositiveIntegerField(default=2000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True, help_text="Why the whole file was refused.")
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    resume_offset = models.PositiveBigIntegerField(default=0, editable=False)
    resume_row_number = models.PositiveIntegerField(default=1, editable=False)  # the header is row 1
    # Running totals, advanced in each chunk's transaction and recounted from the rows at the end.
    users_created = models.PositiveIntegerField(default=0)
    enrollments_created = models.PositiveIntegerField(default=0)
    already_enrolled = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    notified_through_row = models.PositiveIntegerField(default=1, editable=False)
    notify_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The operation API clients poll (GET /api/operations/{id}/), mirroring this row in each of its writes.
    operation = models.OneToOneField(
        "jobs.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="import_job"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "validating", "running", "completed", "failed", "cancelled"]),
                name="imports_status_valid",
            ),
            models.CheckConstraint(condition=Q(delimiter__in=[",", ";"]), name="imports_delimiter_valid"),
            models.CheckConstraint(
                condition=Q(total_rows__isnull=True) | Q(rows_done__lte=models.F("total_rows")),
                name="imports_rows_done_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "failed", "cancelled"]) | Q(finished_at__isnull=False),
                name="imports_finished_has_date",
            ),
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(error=""), name="imports_failed_has_error"),
            models.CheckConstraint(condition=Q(chunk_rows__gte=1), name="imports_chunk_rows_positive"),
        ]
        permissions = [("control_importjob", "Can cancel and resume imports")]
        db_table = "enrollments_importjob"

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.original_name})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def completed_with_errors(self) -> bool:
        return self.status == self.Status.COMPLETED and self.errors > 0

    @property
    def status_label(self) -> str:
        """What staff read: a run where rows failed is not simply "Completed"."""
        if self.completed_with_errors:
            return f"Completed with {self.errors} error{'s' if self.errors != 1 else ''}"
        return self.get_status_display()

    @property
    def percent(self) -> int:
        if self.status == self.Status.COMPLETED:
            return 100
        return (self.rows_done * 100) // self.total_rows if self.total_rows else 0


class ImportedEnrollment(models.Model):
    """A row of an import that was applied: the enrollment it names and what it changed.

    Unique per (import, enrollment): the same email and course again later in the file is a duplicate row,
    however far apart the two rows are.
    """

    import_job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="applied_rows")
    row_number = models.PositiveIntegerField()
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="+")
    enrollment_created = models.BooleanField()
    user_created = models.BooleanField()
    send_welcome = models.BooleanField()

    class Meta:
        ordering = ["import_job", "row_number"]
        db_table = "enrollments_importedenrollment"
        constraints = [
            models.UniqueConstraint(fields=["import_job", "enrollment"], name="imports_enrollment_once_per_import"),
            models.UniqueConstraint(fields=["import_job", "row_number"], name="imports_applied_row_once"),
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number} of import {self.import_job_id}"


class ImportRowError(models.Model):
    """A row of an import that was not applied, with the reason: a line of the error report."""

    import_job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    values = models.JSONField(default=list, help_text="The row's fields as read from the file.")
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["import_job", "row_number"]
        db_table = "enrollments_importrowerror"
        constraints = [
            models.UniqueConstraint(fields=["import_job", "row_number"], name="imports_row_error_once"),
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.reason}"
