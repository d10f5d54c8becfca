"""Import tasks: load by id, call one service. They keep the names they had in the enrollments app, so
messages queued before the move still find them.

Each run works for IMPORT_TASK_BUDGET_SECONDS (20 s by default) and queues the next one, so a run stays
far inside these limits and under the broker's visibility timeout, and a killed worker loses at most the
chunk it was writing. The limits leave room for the validating pass of a large file.
"""

from celery import shared_task

from imports import services
from jobs.options import RETRY_ON_DB_ERRORS


@shared_task(
    name="enrollments.import_process",
    queue="imports",
    soft_time_limit=120,
    time_limit=150,
    **RETRY_ON_DB_ERRORS,
)
def import_process_task(import_id: int) -> dict | None:
    try:
        job = services.import_process(import_id=import_id)
    except RETRY_ON_DB_ERRORS["autoretry_for"]:
        raise  # the database went away: retried, and the import resumes from its last committed chunk
    except Exception as exc:
        # Anything else would fail the same way on every rerun: the import ends "failed" with the reason
        # instead of staying "running" for ever.
        services.import_fail(import_id=import_id, error=f"The import stopped: {type(exc).__name__}: {exc}")
        raise
    if job is None:
        return None
    return {"import_id": job.pk, "status": job.status, "rows_done": job.rows_done, "total_rows": job.total_rows}


@shared_task(
    name="enrollments.import_notify",
    queue="imports",
    soft_time_limit=120,
    time_limit=150,
    **RETRY_ON_DB_ERRORS,
)
def import_notify_task(import_id: int) -> int:
    return services.import_notify(import_id=import_id)
