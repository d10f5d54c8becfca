"""Enrollment tasks: load by id, call one service. Retries and time limits live here, rules do not."""

from celery import shared_task

from courses.models import Course
from enrollments import services
from enrollments.services import imports
from lms.tasks import RETRY_ON_DB_ERRORS


@shared_task(
    name="enrollments.sync_progress",
    soft_time_limit=20,
    time_limit=30,
    # A sync runs for a few milliseconds: a STARTED row would never be seen, and writing it was a sixth
    # of the task's database round trips (docs/performance.md, P3). Its SUCCESS or FAILURE is stored.
    track_started=False,
    **RETRY_ON_DB_ERRORS,
)
def progress_sync_task(enrollment_id: int) -> dict | None:
    synced = services.enrollment_sync_progress(enrollment_id=enrollment_id)
    if synced is None:
        return None
    return {"enrollment_id": synced.enrollment_id, "progress_percent": synced.progress_percent, "status": synced.status}


@shared_task(
    name="enrollments.recompute_course_progress",
    soft_time_limit=150,
    time_limit=180,
    **RETRY_ON_DB_ERRORS,
)
def course_recompute_progress_task(course_id: int) -> int:
    return services.course_recompute_progress(course_id=course_id)


@shared_task(name="enrollments.recompute_course_stats", soft_time_limit=60, time_limit=90, max_retries=3)
def course_stats_recompute_task(course_id: int) -> dict:
    stats = services.course_stats_recompute(course_id=course_id)
    return {"course_id": course_id, "enrolled": stats.enrolled, "completion_rate": str(stats.completion_rate)}


@shared_task(name="enrollments.recompute_all_stats", soft_time_limit=60, time_limit=90)
def all_course_stats_recompute_task() -> int:
    """Nightly: fan out one stats task per course, so one slow course never holds up the others."""
    course_ids = list(Course.objects.values_list("pk", flat=True))
    services.course_stats_request_recompute(course_ids=course_ids)
    return len(course_ids)


# Imports: each run works for IMPORT_TASK_BUDGET_SECONDS (20 s by default) and queues the next one, so a
# run stays far inside these limits and under the broker's visibility timeout, and a killed worker loses
# at most the chunk it was writing. The limits leave room for the validating pass of a large file.
@shared_task(
    name="enrollments.import_process",
    soft_time_limit=120,
    time_limit=150,
    **RETRY_ON_DB_ERRORS,
)
def import_process_task(import_id: int) -> dict | None:
    try:
        job = imports.import_process(import_id=import_id)
    except RETRY_ON_DB_ERRORS["autoretry_for"]:
        raise  # the database went away: retried, and the import resumes from its last committed chunk
    except Exception as exc:
        # Anything else would fail the same way on every rerun: the import ends "failed" with the reason
        # instead of staying "running" for ever.
        imports.import_fail(import_id=import_id, error=f"The import stopped: {type(exc).__name__}: {exc}")
        raise
    if job is None:
        return None
    return {"import_id": job.pk, "status": job.status, "rows_done": job.rows_done, "total_rows": job.total_rows}


@shared_task(
    name="enrollments.import_notify",
    soft_time_limit=120,
    time_limit=150,
    **RETRY_ON_DB_ERRORS,
)
def import_notify_task(import_id: int) -> int:
    return imports.import_notify(import_id=import_id)
