"""The progress rule, stated once: what counts, the percentage, and when the status changes.

- A lesson counts as completed for an enrollment when the enrollment has a completion row for it and the
  lesson is a published lesson of the enrollment's course. Unpublished lessons count for nothing, above or
  below the line; a deleted lesson takes its completion rows with it (ON DELETE CASCADE).
- The percentage is the completed share of the course's published lessons in whole percent, rounded down
  (integer division floors in PostgreSQL and SQLite alike): 100 means every published lesson is done,
  never "99.5 rounded up". A course without published lessons is at 0.
- An active enrollment at 100 becomes completed (`COMPLETES`); a completed one below 100 becomes active
  again (`REOPENS`; its certificate stays). A cancelled enrollment keeps its status while its percentage
  follows its rows.

Both writers of the percentage take it from `ProgressSQL`: the per-enrollment sync (raw SQL, the hot path:
docs/performance.md, P3) and the course-wide recompute (set-based, in batches: P4). Both apply the status
changes below. tests/enrollments/test_progress_rule.py checks that the two agree row by row.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.db import connections
from django.db.models import Q

from courses.models import Lesson
from enrollments.models import Enrollment, LessonCompletion

COMPLETE = 100  # the percentage at which every published lesson is done


@dataclass(frozen=True)
class StatusChange:
    """A status an enrollment leaves for another when its percentage reaches, or falls below, COMPLETE."""

    source: str
    target: str
    below: bool  # applies below COMPLETE (True) or at COMPLETE (False)

    def applies(self, *, status: str, percent: int) -> bool:
        return status == self.source and (percent < COMPLETE if self.below else percent == COMPLETE)

    def q(self) -> Q:
        """The rows this change applies to, once their `progress_percent` is written."""
        at = {"progress_percent__lt": COMPLETE} if self.below else {"progress_percent": COMPLETE}
        return Q(status=self.source, **at)

    def sql(self, *, status: str, percent: str) -> str:
        """SQL true where this change applies; the status is the named parameter of `STATUS_PARAMS`."""
        return f"({status} = %(status_{self.source})s AND {percent} {'<' if self.below else '='} {COMPLETE})"

    def fields(self, *, now: datetime) -> dict:
        """What the change writes: the status, and the completion time (set on completing, cleared on reopening)."""
        return {"status": self.target, "completed_at": None if self.below else now, "updated_at": now}


_ACTIVE, _COMPLETED = Enrollment.Status.ACTIVE.value, Enrollment.Status.COMPLETED.value
COMPLETES = StatusChange(source=_ACTIVE, target=_COMPLETED, below=False)
REOPENS = StatusChange(source=_COMPLETED, target=_ACTIVE, below=True)
STATUS_CHANGES = (COMPLETES, REOPENS)
# The named parameters of `StatusChange.sql` (and so of `ProgressSQL.status_kept`).
STATUS_PARAMS = {f"status_{change.source}": change.source for change in STATUS_CHANGES}


def status_change(*, status: str, percent: int) -> StatusChange | None:
    """The change an enrollment at `status` takes at `percent`, if any."""
    return next((change for change in STATUS_CHANGES if change.applies(status=status, percent=percent)), None)


def counted_completions(prefix: str = "") -> Q:
    """For ORM counts of an enrollment's completions (the learner's lists): those of published lessons.

    `prefix` leads from the queried model to the completion, e.g. "completions__". A completion row is
    only ever recorded for a lesson of the enrollment's own course (`lesson_complete`), so the published
    condition is the whole of the rule here.
    """
    return Q(**{f"{prefix}lesson__is_published": True})


class ProgressSQL:
    """The rule's SQL for one database: identifiers quoted by its backend, no values (callers bind those)."""

    def __init__(self, alias: str) -> None:
        quote = connections[alias].ops.quote_name
        self.enrollment = quote(Enrollment._meta.db_table)
        self.lesson = quote(Lesson._meta.db_table)
        self.completion = quote(LessonCompletion._meta.db_table)

    def published_lessons(self, course: str) -> str:
        """A SELECT of the ids of the published lessons of course `course` (a column or a placeholder)."""
        return f"SELECT l.id FROM {self.lesson} l WHERE l.course_id = {course} AND l.is_published"  # noqa: S608

    def percent(self, row: str, *, published: str, total: str) -> str:
        """The percentage of enrollment row `row` (an alias or the quoted table name).

        `published` lists the course's published lesson ids (a SELECT or literal ids) and `total` is how
        many there are (SQL): completions are counted among those ids, never joined to the lesson table
        (joined, the planner chose a scan of every lesson of every course: docs/performance.md, P4).
        COUNT(*), not COUNT(id): the count then reads only the (enrollment, lesson) unique index.
        """
        done = f"SELECT COUNT(*) FROM {self.completion} c WHERE c.enrollment_id = {row}.id"  # noqa: S608
        done += f" AND c.lesson_id IN ({published})"
        return f"COALESCE(({done}) * {COMPLETE} / NULLIF({total}, 0), 0)"

    def percent_of_row(self, row: str) -> str:
        """The percentage of `row`, its course's published lessons looked up in the statement itself."""
        published = self.published_lessons(f"{row}.course_id")
        total = f"(SELECT COUNT(*) FROM ({published}) AS pl)"  # noqa: S608
        return self.percent(row, published=published, total=total)

    def percent_in_course(self, row: str, *, lesson_ids: list[int]) -> str:
        """The percentage of `row`, an enrollment of a course whose published lessons (`lesson_ids`, read
        once with `published_lessons`) are written into the SQL as integers."""
        if not lesson_ids:
            return "0"
        ids = ", ".join(str(int(pk)) for pk in lesson_ids)
        return self.percent(row, published=ids, total=str(len(lesson_ids)))

    def status_kept(self, *, status: str, percent: str) -> str:
        """SQL true where no status change applies (named parameters: STATUS_PARAMS)."""
        changes = " OR ".join(change.sql(status=status, percent=percent) for change in STATUS_CHANGES)
        return f"NOT ({changes})"


@functools.cache
def progress_sql(alias: str) -> ProgressSQL:
    return ProgressSQL(alias)
