"""Enrollment tasks: load by id, call one service. Retries and time limits live here, rules do not."""

from celery import shared_task

from courses.models import Course
from enrollments import services
from jobs.options import RETRY_ON_DB_ERRORS
from jobs.schedules import periodic


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
def course_recompute_progress_task(course_id: int, operation_id: int | None = None) -> int | None:
    if operation_id is not None:  # asked through the API: an operation clients follow
        return services.course_recompute_operation(course_id=course_id, operation_id=operation_id)
    return services.course_recompute_progress(course_id=course_id)


@shared_task(name="enrollments.recompute_course_stats", soft_time_limit=60, time_limit=90, max_retries=3)
def course_stats_recompute_task(course_id: int) -> dict:
    stats = services.course_stats_recompute(course_id=course_id)
    return {"course_id": course_id, "enrolled": stats.enrolled, "completion_rate": str(stats.completion_rate)}


@periodic("Nightly course analytics", crontab={"minute": "15", "hour": "2"})
@shared_task(name="enrollments.recompute_all_stats", soft_time_limit=60, time_limit=90)
def all_course_stats_recompute_task() -> int:
    """Nightly: fan out one stats task per course, so one slow course never holds up the others."""
    course_ids = list(Course.objects.values_list("pk", flat=True))
    services.course_stats_request_recompute(course_ids=course_ids)
    return len(course_ids)
