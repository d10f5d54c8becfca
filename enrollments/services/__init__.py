"""Writes for enrollments: enroll, complete lessons, progress sync, course-wide recompute, analytics."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Exists, IntegerField, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from courses.models import Course
from enrollments import progress, selectors
from enrollments.models import CourseStats, Enrollment, LessonCompletion
from enrollments.signals import enrollment_completed, enrollment_created
from jobs.db import prepared_cursor
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

# Triggers within this window collapse into one course-wide recompute.
RECOMPUTE_DEBOUNCE_SECONDS = 5
# A request older than this is assumed lost (its message never ran) and may be queued again.
RECOMPUTE_STALE_AFTER = timedelta(minutes=10)
RECOMPUTE_BATCH_SIZE = 5000


class NotEnrolled(Exception):
    """The learner has no live enrollment in the lesson's course (answered as 404: existence is private)."""


def enrollment_create(*, learner, course: Course) -> tuple[Enrollment, bool]:
    """Enroll `learner` in a published `course`; returns (enrollment, created).

    Idempotent: enrolling again returns the existing row (a cancelled one is re-activated). Sends
    `enrollment_created` only for a new row.
    """
    if not course.is_published:
        raise Course.DoesNotExist
    existing = Enrollment.objects.filter(learner=learner, course=course).first()
    if existing is not None:
        if existing.status == Enrollment.Status.CANCELLED:
            with transaction.atomic():
                existing.status = Enrollment.Status.ACTIVE
                existing.save(update_fields=["status", "updated_at"])
                enrollment_request_progress_sync(enrollment_id=existing.pk)
        return existing, False
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(learner=learner, course=course)
            enrollment_created.send(sender=Enrollment, enrollment_id=enrollment.pk)
            # In the same transaction: the job (outbox row) commits with the enrollment or not at all.
            enrollment_request_progress_sync(enrollment_id=enrollment.pk)
    except IntegrityError:  # a concurrent request enrolled first
        return Enrollment.objects.get(learner=learner, course=course), False
    return enrollment, True


def lesson_complete(*, learner, lesson_id: int) -> tuple[LessonCompletion, bool]:
    """Record that `learner` completed lesson `lesson_id`; returns (completion, created).

    Does no progress arithmetic: the progress sync is queued, after commit.
    Raises NotEnrolled when the lesson does not exist or is unpublished (or its course is), or the learner
    has no live enrollment in its course: the views answer all of these with the same 404.
    """
    # One query checks the lesson, finds the live enrollment and whether the lesson is already done. This
    # is the write learners make most, and the request's round trips are most of its latency (P2 in
    # docs/performance.md): separate lesson, enrollment and duplicate lookups cost two more.
    enrollment = (
        Enrollment.objects.filter(
            learner=learner,
            course__is_published=True,
            # One filter() call: both conditions apply to the same lesson row of the join.
            course__lessons__pk=lesson_id,
            course__lessons__is_published=True,
        )
        .exclude(status=Enrollment.Status.CANCELLED)
        .annotate(lesson_done=Exists(LessonCompletion.objects.filter(enrollment=OuterRef("pk"), lesson_id=lesson_id)))
        .first()
    )
    if enrollment is None:
        raise NotEnrolled
    if enrollment.lesson_done:
        return LessonCompletion.objects.get(enrollment=enrollment, lesson_id=lesson_id), False
    try:
        with transaction.atomic():
            completion = LessonCompletion.objects.create(enrollment=enrollment, lesson_id=lesson_id)
            # In the same transaction: the job (outbox row) commits with the completion or not at all.
            enrollment_request_progress_sync(enrollment_id=enrollment.pk)
    except IntegrityError:  # the same lesson completed twice at once: the other request recorded it
        return LessonCompletion.objects.get(enrollment=enrollment, lesson_id=lesson_id), False
    return completion, True


def enrollment_request_progress_sync(*, enrollment_id: int) -> None:
    """Queue a progress sync for one enrollment (after commit)."""
    from enrollments.tasks import progress_sync_task

    enqueue(progress_sync_task, enrollment_id=enrollment_id)


@functools.cache
def _sync_sql(alias: str) -> tuple[str | None, str, str]:
    """The sync's statements: the one-statement fast path (PostgreSQL), and the locked path's two.

    Raw SQL because this runs for every completed lesson: built with the ORM, the three queries the locked
    path replaced cost the worker 2.7 ms of Python per sync against 0.5 ms (docs/performance.md, P3).
    The percentage and the status rule are `enrollments.progress`'s. Identifiers come from model metadata;
    every value is a parameter.
    """
    db = connections[alias]
    rule = progress.progress_sql(alias)
    enrollment = rule.enrollment
    fast = None
    if db.vendor == "postgresql":
        # `p` is computed once (MATERIALIZED) from the statement's snapshot. If another sync commits a change
        # to the row after that snapshot was taken, PostgreSQL re-checks the WHERE against the row's new
        # version (READ COMMITTED) but keeps `p.seen` from the old snapshot: last_synced_at no longer
        # matches, no row is updated, and the caller takes the locked path, which counts after the lock.
        # A row whose status the new percentage changes is left to the locked path too.
        fast = f"""
            WITH p AS MATERIALIZED (
                SELECT e0.last_synced_at AS seen, {rule.percent_of_row("e0")} AS percent
                FROM {enrollment} e0 WHERE e0.id = %(id)s
            )
            UPDATE {enrollment} e SET progress_percent = p.percent, last_synced_at = %(now)s, updated_at = %(now)s
            FROM p
            WHERE e.id = %(id)s
              AND e.last_synced_at IS NOT DISTINCT FROM p.seen
              AND {rule.status_kept(status="e.status", percent="p.percent")}
            RETURNING e.progress_percent, e.status
        """  # noqa: S608
    lock = f"SELECT status FROM {enrollment} WHERE id = %(id)s"  # noqa: S608
    if db.features.has_select_for_update:
        lock += " FOR UPDATE"
    update = f"""
        UPDATE {enrollment} SET progress_percent = {rule.percent_of_row(enrollment)}, last_synced_at = %(now)s,
            updated_at = %(now)s
        WHERE id = %(id)s
        RETURNING progress_percent
    """  # noqa: S608
    return fast, lock, update


@dataclass(frozen=True)
class ProgressSync:
    """What one sync wrote: the enrollment's progress and status as now committed."""

    enrollment_id: int
    progress_percent: int
    status: str
    last_synced_at: datetime


def enrollment_sync_progress(*, enrollment_id: int) -> ProgressSync | None:
    """Recompute one enrollment's progress from its completion rows; idempotent.

    Each sync counts the completions committed when it runs, and a sync never overwrites a newer count
    with an older one, so the last sync to run has seen every completion. Reaching 100% marks the
    enrollment completed and sends `enrollment_completed` once; dropping below re-opens it (certificates
    stay).

    On PostgreSQL the usual case, a new count and no change of status, is one UPDATE in autocommit; the
    statement itself notices a concurrent sync (see `_sync_sql`). A status change, a concurrent sync, a
    missing row, and SQLite take the locked path: lock the row, then count in the next statement, so the
    count comes from a snapshot taken after any concurrent sync has committed.
    """
    now = timezone.now()
    fast, lock, update = _sync_sql(connection.alias)
    params = {
        "id": enrollment_id,
        "now": Enrollment._meta.get_field("last_synced_at").get_db_prep_value(now, connection),
        **progress.STATUS_PARAMS,
    }
    with prepared_cursor(connection) as cursor:
        if fast is not None:
            cursor.execute(fast, params)
            if row := cursor.fetchone():
                return ProgressSync(enrollment_id, row[0], row[1], now)
        with transaction.atomic():
            cursor.execute(lock, params)
            if (row := cursor.fetchone()) is None:
                return None
            (status,) = row
            cursor.execute(update, params)
            (percent,) = cursor.fetchone()
            # A status change happens once per enrollment, not per lesson: the ORM is fine for it.
            if change := progress.status_change(status=status, percent=percent):
                status = change.target
                Enrollment.objects.filter(pk=enrollment_id).update(**change.fields(now=now))
                if change is progress.COMPLETES:
                    enrollment_completed.send(sender=Enrollment, enrollment_id=enrollment_id)
    return ProgressSync(enrollment_id, percent, status, now)


def course_request_progress_recompute(*, course_id: int) -> bool:
    """Queue one course-wide recompute unless one is already waiting; returns whether it queued.

    The marker on the course row is what collapses a burst of lesson edits into a single run.
    """
    from enrollments.tasks import course_recompute_progress_task

    now = timezone.now()
    claimed = (
        Course.objects.filter(pk=course_id)
        .filter(
            Q(progress_recompute_requested_at__isnull=True)
            | Q(progress_recompute_requested_at__lt=now - RECOMPUTE_STALE_AFTER)
        )
        .update(progress_recompute_requested_at=now)
    )
    if claimed:
        enqueue(course_recompute_progress_task, countdown=RECOMPUTE_DEBOUNCE_SECONDS, course_id=course_id)
    return bool(claimed)


def course_recompute_progress(*, course_id: int, batch_size: int = RECOMPUTE_BATCH_SIZE, progress_to=None) -> int:
    """Recompute every enrollment's progress in a course with set-based SQL, in id-ranged batches.

    The number of queries depends on the number of batches, not of enrollments. Returns rows updated.
    Newly complete enrollments are marked completed and announced; complete ones that fell below 100%
    are re-opened. Safe to run twice.
    """
    # Clear the marker first: a lesson edit during this run queues a fresh run that sees it.
    Course.objects.filter(pk=course_id).update(progress_recompute_requested_at=None)
    rule = progress.progress_sql(connection.alias)
    # The ids, read once, not a subquery per row: correlated, the per-enrollment subquery scanned the
    # lesson table for every row (EXPLAIN ANALYZE in docs/performance.md, P4).
    with connection.cursor() as cursor:
        cursor.execute(rule.published_lessons("%s"), [course_id])
        published_ids = [pk for (pk,) in cursor.fetchall()]
    # Identifiers from model metadata and integer ids: nothing in it comes from a user.
    percent = RawSQL(rule.percent_in_course(rule.enrollment, lesson_ids=published_ids), (), IntegerField())  # noqa: S611
    bounds = Enrollment.objects.filter(course_id=course_id).order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    updated = 0
    reporter = ProgressReporter(progress_to, (last - first) // batch_size + 1) if progress_to else None
    for low in range(first, last + 1, batch_size):
        if reporter:
            reporter.advance(0 if low == first else 1)  # OperationCancelled stops between batches
        now = timezone.now()
        with transaction.atomic():
            batch = Enrollment.objects.filter(course_id=course_id, pk__gte=low, pk__lt=low + batch_size)
            updated += batch.update(progress_percent=percent, last_synced_at=now, updated_at=now)
            newly_done = list(batch.filter(progress.COMPLETES.q()).values_list("pk", flat=True))
            if newly_done:
                Enrollment.objects.filter(pk__in=newly_done).update(**progress.COMPLETES.fields(now=now))
                for enrollment_id in newly_done:
                    enrollment_completed.send(sender=Enrollment, enrollment_id=enrollment_id)
            batch.filter(progress.REOPENS.q()).update(**progress.REOPENS.fields(now=now))
    return updated


RECOMPUTE_OPERATION = "course.recompute"


def course_recompute_start(*, course: Course, started_by) -> tuple[Operation, bool]:
    """Queue a recompute of every enrollment's progress in `course` as an operation clients follow; the
    running one if there is one (one at a time per course). Returns (operation, created)."""
    from enrollments.tasks import course_recompute_progress_task

    with transaction.atomic():
        operation, created = operation_start(
            kind=RECOMPUTE_OPERATION, subject=f"course:{course.pk}", started_by=started_by, message="Queued."
        )
        if created:
            enqueue(course_recompute_progress_task, course_id=course.pk, operation_id=operation.pk)
    return operation, created


def course_recompute_operation(*, course_id: int, operation_id: int) -> int | None:
    """The recompute as an operation: running, batches reported, completed; None if it was cancelled
    (the batches done before stay: each is whole, and a rerun is harmless)."""
    try:
        operation_running(operation_id=operation_id, message="Recomputing.")
        updated = course_recompute_progress(course_id=course_id, progress_to=operation_id)
    except OperationCancelled:
        return None
    except Exception as exc:
        operation_fail(operation_id=operation_id, message=f"The recompute failed: {type(exc).__name__}.")
        raise
    operation_complete(operation_id=operation_id, message=f"{updated} enrollments recomputed.")
    return updated


def course_stats_recompute(*, course_id: int) -> CourseStats:
    """Recompute a course's analytics row from its enrollments in one aggregate query."""
    figures = selectors.course_figures(course_id=course_id)
    stats, _ = CourseStats.objects.update_or_create(course_id=course_id, defaults=figures.as_stats_fields())
    return stats


def course_stats_request_recompute(*, course_ids: list[int]) -> None:
    from enrollments.tasks import course_stats_recompute_task

    for course_id in course_ids:
        enqueue(course_stats_recompute_task, course_id=course_id)
