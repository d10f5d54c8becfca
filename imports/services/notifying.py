"""Announcing an import's applied rows behind the chunks, in batches: one `enrollments_imported` each."""

import time

from django.db import transaction
from django.db.models import Q

from imports.models import ImportedEnrollment, ImportJob
from imports.services.limits import notify_batch_rows, task_budget_seconds
from imports.services.processing import locked
from imports.signals import enrollments_imported
from jobs.enqueue import enqueue


def import_notify(*, import_id: int, budget_seconds: float | None = None) -> int:
    """Announce the import's applied rows not yet announced, in batches; returns rows announced.

    Each batch sends `enrollments_imported` (receivers queue the welcome mail and webhooks) and advances
    `notified_through_row` in one transaction, so a rerun after a crash repeats nothing committed (and a
    repeat would be harmless: emails and webhook events are deduplicated downstream). Queues itself
    again while rows remain; clears the marker when caught up.
    """
    from imports.tasks import import_notify_task

    if budget_seconds is None:
        budget_seconds = task_budget_seconds()
    batch_rows = notify_batch_rows()
    deadline = time.monotonic() + budget_seconds
    announced = 0
    while time.monotonic() < deadline:
        job = ImportJob.objects.filter(pk=import_id).first()
        if job is None:
            return announced
        start, done_through = job.notified_through_row, job.resume_row_number
        if start >= done_through:
            break
        end = min(done_through, start + batch_rows)
        with transaction.atomic():
            rows = list(
                ImportedEnrollment.objects.filter(import_job_id=import_id, row_number__gt=start, row_number__lte=end)
                .filter(Q(enrollment_created=True) | Q(user_created=True, send_welcome=True))
                .values_list(
                    "enrollment_id", "enrollment__learner_id", "enrollment_created", "user_created", "send_welcome"
                )
            )
            moved = ImportJob.objects.filter(pk=import_id, notified_through_row=start).update(notified_through_row=end)
            if not moved:
                return announced  # a duplicate run announced these
            enrollment_ids = [r[0] for r in rows if r[2]]
            welcome_user_ids = [r[1] for r in rows if r[3] and r[4]]
            if enrollment_ids or welcome_user_ids:
                enrollments_imported.send(
                    sender=ImportJob,
                    import_id=import_id,
                    enrollment_ids=enrollment_ids,
                    welcome_user_ids=welcome_user_ids,
                )
        announced += len(rows)
    with transaction.atomic():
        job = locked(import_id)
        if job.notified_through_row < job.resume_row_number:
            enqueue(import_notify_task, import_id=import_id)
        else:
            job.notify_requested_at = None
            job.save(update_fields=["notify_requested_at", "updated_at"])
    return announced
