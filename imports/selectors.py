"""Reads of the imports app: the list, an import's progress (percent, rate, time left), its error rows."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from imports.models import ImportJob


def import_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("uploaded_by").order_by("-created_at", "-id")


@dataclass(frozen=True)
class ImportProgress:
    percent: int
    rate_per_second: float | None  # rows applied per second since processing began
    eta_seconds: int | None


def import_progress(*, import_job: ImportJob, now=None) -> ImportProgress:
    """Percent, rate and estimated time left of an import, from its started_at and rows_done."""
    job = import_job
    end = job.finished_at or now or timezone.now()
    elapsed = (end - job.started_at).total_seconds() if job.started_at else 0
    rate = job.rows_done / elapsed if elapsed > 0 and job.rows_done else None
    eta = None
    if job.status == ImportJob.Status.RUNNING and rate and job.total_rows is not None:
        eta = round((job.total_rows - job.rows_done) / rate)
    elif job.is_finished:
        eta = 0 if job.status == ImportJob.Status.COMPLETED else None
    return ImportProgress(percent=job.percent, rate_per_second=round(rate, 1) if rate else None, eta_seconds=eta)


def import_error_rows(*, import_job: ImportJob) -> Iterator[tuple[int, list, str]]:
    """(row number, the row's fields, reason) of each refused row, in file order, streamed from the database."""
    return (
        import_job.row_errors.order_by("row_number")
        .values_list("row_number", "values", "reason")
        .iterator(chunk_size=2000)
    )
