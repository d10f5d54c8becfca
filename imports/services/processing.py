"""Processing an import in the task: the validating pass, then chunks in one transaction each under the
job's row lock, for a time budget; failing, cancelling and resuming."""

import logging
import time
from datetime import timedelta
from itertools import islice

from django.db import DataError, IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from courses.models import Course
from imports.models import ImportedEnrollment, ImportJob, ImportRowError
from imports.services.applying import chunk_apply
from imports.services.limits import task_budget_seconds
from imports.services.reading import FileError, records_from, validate_pass
from jobs.enqueue import enqueue
from jobs.operations import operation_mirror

logger = logging.getLogger(__name__)

# A notify marker older than this belongs to a message that was lost: the next chunk queues another.
NOTIFY_STALE_AFTER = timedelta(minutes=10)


# How an import's status reads as an operation's state (jobs.models.Operation).
OPERATION_STATE = {
    ImportJob.Status.QUEUED: "queued",
    ImportJob.Status.VALIDATING: "running",
    ImportJob.Status.RUNNING: "running",
    ImportJob.Status.COMPLETED: "completed",
    ImportJob.Status.FAILED: "failed",
    ImportJob.Status.CANCELLED: "cancelled",
}


def _save(job: ImportJob, **kwargs) -> None:
    """Save the import and mirror it onto its operation (the one progress API clients poll), in the same
    transaction: the operation never says more, or less, than the import."""
    job.save(**kwargs)
    if job.operation_id:
        message = job.error or f"{job.rows_done} of {job.total_rows if job.total_rows is not None else '?'} rows"
        result_url = reverse("api-import-detail", args=[job.pk]) if job.is_finished else ""
        operation_mirror(
            operation_id=job.operation_id,
            state=OPERATION_STATE[job.status],
            completion=job.percent,
            message=message,
            result_url=result_url,
        )


def _notify_request(job: ImportJob, now) -> None:
    """With `job` locked: make sure one notify run is queued (the marker stops a second one)."""
    from imports.tasks import import_notify_task

    if job.notify_requested_at is None or job.notify_requested_at < now - NOTIFY_STALE_AFTER:
        job.notify_requested_at = now
        enqueue(import_notify_task, import_id=job.pk)


def _finish(job: ImportJob, status: str, now, *, error: str = "") -> None:
    """With `job` locked: the final state, its counts recounted from the rows that define them."""
    counts = job.applied_rows.aggregate(
        users=Count("pk", filter=Q(user_created=True)),
        created=Count("pk", filter=Q(enrollment_created=True)),
        already=Count("pk", filter=Q(enrollment_created=False)),
    )
    job.users_created, job.enrollments_created, job.already_enrolled = (
        counts["users"],
        counts["created"],
        counts["already"],
    )
    job.errors = job.row_errors.count()
    job.status, job.error, job.finished_at = status, error, now
    if job.total_rows is None:
        job.total_rows = job.rows_done


def locked(import_id: int) -> ImportJob:
    return ImportJob.objects.select_for_update().get(pk=import_id)


def _cancel_if_requested(job: ImportJob, now) -> bool:
    if job.cancel_requested_at is None:
        return False
    _finish(job, ImportJob.Status.CANCELLED, now)
    _save(job)
    return True


def _run_validation(import_id: int) -> ImportJob | None:
    """The validating pass: queued -> validating -> running | failed | cancelled. None: not ours to run."""
    with transaction.atomic():
        job = locked(import_id)
        if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.VALIDATING):
            return job
        if _cancel_if_requested(job, timezone.now()):
            return job
        job.status = ImportJob.Status.VALIDATING
        _save(job, update_fields=["status", "updated_at"])
    try:
        total, header_end = validate_pass(job)
        error = ""
    except FileError as exc:
        total, header_end, error = None, 0, str(exc)
    except FileNotFoundError:
        total, header_end, error = None, 0, "The uploaded file is missing from storage."
    now = timezone.now()
    with transaction.atomic():
        job = locked(import_id)
        if job.status != ImportJob.Status.VALIDATING:
            return job  # a concurrent duplicate run got here first
        if _cancel_if_requested(job, now):
            return job
        if error:
            _finish(job, ImportJob.Status.FAILED, now, error=error)
        else:
            job.status, job.total_rows, job.started_at = ImportJob.Status.RUNNING, total, now
            job.resume_offset, job.resume_row_number, job.rows_done = header_end, 1, 0
        _save(job)
    return job


# What a chunk's writes raise when the database refuses the data itself (a NUL in text, a character it
# cannot encode, a value over a limit): no rerun can succeed, so the import fails with the reason.
REFUSED_BY_DATABASE = (DataError, IntegrityError, UnicodeError)


def _chunk_commit(import_id: int, offset: int, batch: list, exhausted: bool, course_cache: dict) -> ImportJob | None:
    """One chunk in one transaction: its users, enrollments, applied rows, errors, counts and resume point
    commit together or not at all. Returns the job when this run must stop (finished, cancelled, or
    another run moved on), None to go on."""
    now = timezone.now()
    with transaction.atomic():
        job = locked(import_id)
        if job.status != ImportJob.Status.RUNNING or job.resume_offset != offset:
            return job  # finished, or another run moved on: this one stops
        if _cancel_if_requested(job, now):
            return job
        if batch:
            result = chunk_apply(job, [record for record, _ in batch], course_cache)
            ImportedEnrollment.objects.bulk_create(result.applied, batch_size=1000)
            ImportRowError.objects.bulk_create(result.errors, batch_size=1000)
            job.rows_done += len(batch)
            job.resume_offset, job.resume_row_number = batch[-1][1], batch[-1][0].row_number
            job.users_created += result.users_created
            job.enrollments_created += result.enrollments_created
            job.already_enrolled += result.already_enrolled
            job.errors += len(result.errors)
            if any(r.enrollment_created or (r.user_created and r.send_welcome) for r in result.applied):
                _notify_request(job, now)
        if exhausted:
            _finish(job, ImportJob.Status.COMPLETED, now)
        _save(job)
    return job if exhausted else None


def import_fail(*, import_id: int, error: str) -> ImportJob | None:
    """End an unfinished import as failed with `error` (staff see it on the page and in the API).

    Its committed chunks stay (each one is whole); returns the job, None if it does not exist.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=import_id).first()
        if job is not None and not job.is_finished:
            _finish(job, ImportJob.Status.FAILED, timezone.now(), error=error[:2000] or "The import failed.")
            _save(job)
    return job


def _rows_named(batch: list) -> str:
    if not batch:
        return "The import"
    first, last = batch[0][0].row_number, batch[-1][0].row_number
    return f"Row {first}" if first == last else f"Rows {first}-{last}"


def import_process(*, import_id: int, budget_seconds: float | None = None) -> ImportJob | None:
    """Validate, then apply chunks of the import for about `budget_seconds`; returns the ImportJob.

    Idempotent and resumable: each chunk's rows, errors, counts and resume point commit together under
    the job's row lock, and a chunk is applied only if the resume point is where this run read it from
    (a duplicate run stops). When time is up and rows remain, the next run is queued. A chunk the
    database refuses leaves nothing of itself and fails the import, naming its rows and the reason.
    Side effects: users, enrollments, the import's applied rows and errors, one queued notify run, the
    next run.
    """
    from imports.tasks import import_process_task

    if budget_seconds is None:
        budget_seconds = task_budget_seconds()
    deadline = time.monotonic() + budget_seconds
    job = ImportJob.objects.filter(pk=import_id).first()
    if job is None or job.is_finished:
        return job
    if job.status != ImportJob.Status.RUNNING:
        job = _run_validation(import_id)
        if job is None or job.status != ImportJob.Status.RUNNING:
            return job
    course_cache: dict[str, Course | None] = {}
    offset = job.resume_offset
    batch: list = []
    try:
        with job.file.open("rb") as handle:
            records = records_from(handle, delimiter=job.delimiter, offset=offset, row_number=job.resume_row_number)
            while True:
                batch = list(islice(records, job.chunk_rows))
                exhausted = len(batch) < job.chunk_rows
                stopped = _chunk_commit(import_id, offset, batch, exhausted, course_cache)
                if stopped is not None:
                    return stopped
                offset = batch[-1][1]
                if time.monotonic() >= deadline:
                    break
    except FileError as exc:  # the file changed in storage after its validating pass
        return import_fail(import_id=import_id, error=str(exc))
    except REFUSED_BY_DATABASE as exc:
        logger.warning("import %s: the database refused a chunk", import_id, exc_info=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return import_fail(
            import_id=import_id,
            error=f"{_rows_named(batch)} could not be written ({reason}); nothing of them was written, "
            "the rows before them were imported.",
        )
    with transaction.atomic():
        job = locked(import_id)
        if job.status == ImportJob.Status.RUNNING and job.resume_offset == offset:
            enqueue(import_process_task, import_id=import_id)
    return job


# --- Cancel, resume ---------------------------------------------------------------------------------


def import_cancel(*, import_job: ImportJob) -> bool:
    """End an unfinished import as cancelled, whatever it is doing; returns whether it was cancelled.

    Waits for the chunk being written (it holds the job's row lock) and ends the import right after it:
    rows already committed stay, and the task finds it cancelled at its next chunk and stops. An import
    whose task was lost, or that stayed "running" after a crash, ends here too. Side effects: the job's
    status, counts and `cancel_requested_at`.
    """
    now = timezone.now()
    with transaction.atomic():
        job = locked(import_job.pk)
        cancelled = not job.is_finished
        if cancelled:
            job.cancel_requested_at = job.cancel_requested_at or now
            _finish(job, ImportJob.Status.CANCELLED, now)
            _save(job)
    import_job.refresh_from_db()
    return cancelled


def import_resume(*, import_job: ImportJob) -> bool:
    """Queue another processing run of an unfinished import, and a notify run if announcements lag (after
    a lost message); harmless if one is running already: the resume point and cursor checks turn it away."""
    from imports.tasks import import_notify_task, import_process_task

    resumed = False
    with transaction.atomic():
        if not import_job.is_finished:
            enqueue(import_process_task, import_id=import_job.pk)
            resumed = True
        if import_job.notified_through_row < import_job.resume_row_number:
            enqueue(import_notify_task, import_id=import_job.pk)
            resumed = True
    return resumed
