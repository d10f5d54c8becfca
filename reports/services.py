"""Writes of the reports app: requesting a report (one at a time per course and kind), generating it in
the task (streamed into a file, progress on the way, cancellable), pruning expired ones.

    request: report_request   -> an Operation (queued; or the one already running) and a Report, one task
    task:    report_generate  -> rows from a server-side cursor into a temporary file, progress written on
                                 whole-percent changes; stored under reports/ and `report_ready` sent; a
                                 cancelled run removes its partial file and stores nothing
    beat:    report_prune     -> expired reports' files and rows removed (REPORTS_KEEP_DAYS)
"""

import logging
import os
import tempfile
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from jobs.enqueue import enqueue
from jobs.models import Operation
from jobs.operations import (
    OperationCancelled,
    ProgressReporter,
    operation_complete,
    operation_fail,
    operation_running,
    operation_start,
)
from reports import selectors
from reports.models import Report
from reports.signals import report_ready
from reports.writers import WRITERS

logger = logging.getLogger(__name__)

OPERATION_KIND = "report"


def keep_days() -> int:
    return int(getattr(settings, "REPORTS_KEEP_DAYS", 7))


def _subject(kind: str, course, period_start, period_end) -> str:
    """What one-at-a-time is about: the course and kind (and the period, for certificates)."""
    subject = f"{kind}:course:{course.pk if course else 'all'}"
    if kind == Report.Kind.CERTIFICATES_ISSUED:
        subject += f":{period_start or ''}:{period_end or ''}"
    return subject


def _check(kind: str, fmt: str, course, period_start, period_end) -> None:
    errors = {}
    if kind not in Report.Kind.values:
        errors["kind"] = f"Choose one of {', '.join(Report.Kind.values)}."
    if fmt not in Report.Format.values:
        errors["format"] = f"Choose one of {', '.join(Report.Format.values)}."
    if kind != Report.Kind.CERTIFICATES_ISSUED and course is None:
        errors["course"] = "This report is about one course: name it."
    if period_start and period_end and period_start > period_end:
        errors["period_end"] = "The period ends before it starts."
    if errors:
        raise ValidationError(errors)


def report_request(
    *, kind: str, requested_by, course=None, fmt: str = "csv", period_start=None, period_end=None
) -> tuple[Report, bool]:
    """Queue a report, or return the one of the same course and kind already queued or running.

    Returns (report, created). Raises ValidationError({field: message}) for a request that cannot be
    met. One at a time is the operation's partial unique index: of two requests at once, one creates.
    """
    from reports.tasks import report_generate_task

    _check(kind, fmt, course, period_start, period_end)
    with transaction.atomic():
        operation, created = operation_start(
            kind=OPERATION_KIND,
            subject=_subject(kind, course, period_start, period_end),
            started_by=requested_by,
            message="Waiting for a worker.",
        )
        if not created:
            return Report.objects.get(operation=operation), False
        report = Report.objects.create(
            operation=operation,
            kind=kind,
            format=fmt,
            course=course,
            period_start=period_start,
            period_end=period_end,
            requested_by=operation.started_by,
        )
        enqueue(report_generate_task, report_id=report.pk)
    return report, True


def _table(report: Report) -> selectors.Table:
    if report.kind == Report.Kind.COURSE_PROGRESS:
        return selectors.course_progress(course_id=report.course_id)
    if report.kind == Report.Kind.LESSON_COMPLETION:
        return selectors.lesson_completion(course_id=report.course_id)
    return selectors.certificates_issued(
        course_id=report.course_id, period_start=report.period_start, period_end=report.period_end
    )


def _write(report: Report, path: str) -> int:
    """Stream the report's rows into `path`; returns the row count. Raises OperationCancelled."""
    table = _table(report)
    progress = ProgressReporter(report.operation_id, table.count)
    writer = WRITERS[report.format](path, table.header, times=table.times)
    try:
        for row in table.rows:
            writer.write(row)
            progress.advance()
    finally:
        table.rows.close()  # a cancelled run stops the database's query and closes the reader's connection
        writer.close()
    return progress.done


def _store(report: Report, path: str, rows: int) -> bool:
    """Store the file and complete the operation in one transaction; False if it was cancelled meanwhile."""
    now = timezone.now()
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        with open(path, "rb") as handle:
            report.file.save(f"{uuid.uuid4().hex}.{report.format}", File(handle), save=False)
        report.rows, report.size, report.completed_at = rows, report.file.size, now
        report.expires_at = now + timedelta(days=keep_days())
        url = reverse("api-report-download", args=[report.pk])
        if not operation_complete(operation_id=report.operation_id, result_url=url, message=f"{rows} rows."):
            transaction.set_rollback(True)
            report.file.delete(save=False)
            return False
        report.save()
        report_ready.send(sender=Report, report_id=report.pk)
    return True


def report_generate(*, report_id: int) -> Report | None:
    """Generate the report's file; returns the report (None if it is gone). Idempotent: a report whose
    operation already ended (done, cancelled, or a duplicate run took it) is left as it is."""
    report = Report.objects.select_related("operation").filter(pk=report_id).first()
    if report is None or report.operation.state not in Operation.ACTIVE:
        return report
    handle, path = tempfile.mkstemp(prefix="report-", suffix=f".{report.format}")
    os.close(handle)
    try:
        operation_running(operation_id=report.operation_id, message="Writing rows.")
        rows = _write(report, path)
        _store(report, path, rows)
    except OperationCancelled:
        logger.info("report %s: cancelled while it ran; its partial file is removed", report_id)
    except Exception as exc:
        operation_fail(operation_id=report.operation_id, message=f"The report failed: {type(exc).__name__}.")
        raise
    finally:
        os.unlink(path)  # the partial or the stored copy: the temporary file never stays
    report.refresh_from_db()
    return report


def report_prune(*, now=None) -> int:
    """Remove reports past their expiry: the file, then the row (the operation stays, without its link)."""
    now = now or timezone.now()
    pruned = 0
    for report in Report.objects.filter(expires_at__lt=now).select_related("operation").iterator():
        if report.file:
            report.file.delete(save=False)
        Operation.objects.filter(pk=report.operation_id).update(result_url="", message="Expired and removed.")
        report.delete()
        pruned += 1
    return pruned
