"""Report tasks: load by id, call one service."""

from celery import shared_task

from jobs.options import RETRY_ON_DB_ERRORS
from jobs.schedules import periodic
from reports import services


# A course of 100,000 enrollments takes seconds (docs/performance.md, P9); the limits leave room for more.
@shared_task(name="reports.generate_report", queue="reports", soft_time_limit=150, time_limit=180, **RETRY_ON_DB_ERRORS)
def report_generate_task(report_id: int) -> dict | None:
    report = services.report_generate(report_id=report_id)
    if report is None:
        return None
    return {"report_id": report.pk, "rows": report.rows, "state": report.operation.state}


@periodic("Prune expired reports", crontab={"minute": "40", "hour": "3"})
@shared_task(name="reports.prune_reports", soft_time_limit=50, time_limit=60)
def report_prune_task() -> int:
    return services.report_prune()
