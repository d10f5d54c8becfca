"""Applying one chunk of rows, set-based: a handful of queries per chunk whatever its size (users by email,
bulk insert of the missing ones, enrollments by (learner, course), bulk insert, the import's earlier rows
for the duplicate check)."""

import re
import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.names import normalize_name
from courses.models import Course
from enrollments.models import Enrollment
from imports.models import ImportedEnrollment, ImportJob, ImportRowError
from imports.services.reading import Record

TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "off"})
FULL_NAME_MAX = 200
# What PostgreSQL refuses in a text or jsonb value: NUL, and lone surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
EMAIL_MAX = 254

User = get_user_model()


@dataclass
class ChunkResult:
    users_created: int = 0
    enrollments_created: int = 0
    already_enrolled: int = 0
    errors: list[ImportRowError] = field(default_factory=list)
    applied: list[ImportedEnrollment] = field(default_factory=list)


@dataclass
class _Row:
    row_number: int
    values: list[str]
    email: str
    full_name: str
    course: Course
    send_welcome: bool


def _parse_bool(value: str, default: bool) -> bool | None:
    word = value.strip().lower()
    if not word:
        return default
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _courses_for(slugs: set[str], cache: dict[str, Course | None]) -> None:
    missing = [s for s in slugs if s not in cache]
    if missing:
        found = {c.slug: c for c in Course.objects.filter(slug__in=missing)}
        for slug in missing:
            cache[slug] = found.get(slug)


def _unusable_password() -> str:
    # What make_password(None) stores (the prefix marks it unusable, the random part keeps each one
    # unique), from one urandom call instead of 40 random.choice calls: a tenth of a 100k import's time.
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _enrollments_of(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Ids of the enrollments of (learner, course) `pairs`, in one query (none for no pairs)."""
    if not pairs:
        return {}
    found = Enrollment.objects.filter(learner_id__in={p[0] for p in pairs}, course_id__in={p[1] for p in pairs})
    rows = found.values_list("pk", "learner_id", "course_id")
    return {(lid, cid): pk for pk, lid, cid in rows if (lid, cid) in pairs}


def storable(value: str) -> str:
    """`value` without what PostgreSQL refuses in text: NUL and lone surrogates (U+FFFD instead)."""
    return UNSTORABLE.sub("\ufffd", value)


def _users_for(rows: list[_Row]) -> tuple[dict[str, int], set[int]]:
    """Ids of the rows' learners by email, creating the missing ones; and which of them are new."""
    # No password: the welcome mail carries a set-password link.
    emails = {row.email for row in rows}
    users = dict(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email_lower", "pk")
    )
    new_emails = [email for email in dict.fromkeys(row.email for row in rows) if email not in users]
    new_user_ids: set[int] = set()
    if new_emails:
        joined = timezone.now()
        names = {}
        for row in rows:
            names.setdefault(row.email, row.full_name)
        User.objects.bulk_create(
            [
                User(email=email, full_name=names[email], password=_unusable_password(), date_joined=joined)
                for email in new_emails
            ],
            ignore_conflicts=True,  # someone signed up with the address since the select: theirs stands
            batch_size=1000,
        )
        for email, pk, date_joined in (
            User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=new_emails)
            .values_list("email_lower", "pk", "date_joined")
        ):
            users[email] = pk
            if date_joined == joined:
                new_user_ids.add(pk)
    return users, new_user_ids


def _row_of(record: Record, cell, course_cache: dict, send_welcome_default: bool) -> _Row | str:
    """The row to apply, or why it cannot be (the reason in its error report line)."""
    if any(storable(value) != value for value in record.fields):
        # A file stored before uploads were scanned for them: reported, never sent to the database.
        return "the row contains a NUL byte or a character that cannot be stored"
    email, slug = cell(record.fields, "email").lower(), cell(record.fields, "course")
    full_name = normalize_name(cell(record.fields, "full_name"))  # as stored: the length check counts that
    if not email:
        return "missing email"
    try:
        if len(email) > EMAIL_MAX:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        return f"invalid email address: {email[:100]}"
    if not slug:
        return "missing course"
    course = course_cache.get(slug)
    if course is None:
        return f"unknown course: {slug[:100]}"
    if not course.is_published:
        return f"course is not published: {slug[:100]}"
    if len(full_name) > FULL_NAME_MAX:
        return f"full_name is longer than {FULL_NAME_MAX} characters"
    send_welcome = _parse_bool(cell(record.fields, "send_welcome"), send_welcome_default)
    if send_welcome is None:
        return "send_welcome must be yes or no (true/false, 1/0)"
    return _Row(record.row_number, record.fields, email, full_name, course, send_welcome)


def _ensure_enrollments(
    pairs: set[tuple[int, int]], new_user_ids: set[int]
) -> tuple[dict[tuple[int, int], int], set[tuple[int, int]]]:
    """Every (learner, course) pair's enrollment id, creating the missing ones; and which were created."""
    # Learners created just now have no enrollments yet (not visible to anyone else before commit).
    enrollment_ids = _enrollments_of({p for p in pairs if p[0] not in new_user_ids})
    to_create = pairs - enrollment_ids.keys()
    if not to_create:
        return enrollment_ids, set()
    Enrollment.objects.bulk_create(
        [Enrollment(learner_id=lid, course_id=cid) for lid, cid in to_create],
        ignore_conflicts=True,  # enrolled by hand since the select: counted as already enrolled below
        batch_size=1000,
    )
    fresh = _enrollments_of(to_create)
    enrollment_ids.update(fresh)
    # Imports never cancel or re-activate enrollments: an imported row for a cancelled one stays as it is.
    return enrollment_ids, set(fresh)


class _Chunk:
    """One chunk's result as it is built: its error rows and applied rows, with the counts."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.result = ChunkResult()
        self.columns = {name: i for i, name in enumerate(job.header)}

    def cell(self, fields: list[str], name: str) -> str:
        index = self.columns.get(name)
        return fields[index].strip() if index is not None and index < len(fields) else ""

    def error(self, row_number: int, values: list[str], reason: str) -> None:
        self.result.errors.append(
            ImportRowError(
                import_job=self.job,
                row_number=row_number,
                values=[storable(value) for value in values],
                reason=reason[:300],
            )
        )

    def valid_rows(self, records: list[Record], course_cache: dict) -> list[_Row]:
        """The rows that can be applied; the others (invalid, or repeated in this chunk) as errors."""
        _courses_for({self.cell(r.fields, "course") for r in records} - {""}, course_cache)
        rows: list[_Row] = []
        first_of: dict[tuple[str, int], int] = {}
        for record in records:
            row = _row_of(record, self.cell, course_cache, self.job.send_welcome)
            if isinstance(row, str):
                self.error(record.row_number, record.fields, row)
                continue
            earlier = first_of.setdefault((row.email, row.course.pk), record.row_number)
            if earlier != record.row_number:
                self.error(record.row_number, record.fields, f"duplicate row: same email and course as row {earlier}")
                continue
            rows.append(row)
        return rows

    def with_users(self, rows: list[_Row], users: dict[str, int]) -> list[_Row]:
        for row in rows:
            if row.email not in users:  # an address the database folds differently from Python: never loop on it
                self.error(row.row_number, row.values, f"could not create a user for {row.email[:100]}")
        return [row for row in rows if row.email in users]

    def record(self, rows: list[_Row], users: dict[str, int], new_user_ids: set[int], enrollments) -> None:
        """The applied rows; a pair applied by an earlier chunk of this import makes the row a duplicate."""
        enrollment_ids, created_pairs = enrollments
        earlier = dict(
            ImportedEnrollment.objects.filter(
                import_job=self.job, enrollment_id__in=enrollment_ids.values()
            ).values_list("enrollment_id", "row_number")
        )
        welcomed: set[int] = set()
        for row in rows:
            pair = (users[row.email], row.course.pk)
            enrollment_id = enrollment_ids[pair]
            if enrollment_id in earlier:
                reason = f"duplicate row: same email and course as row {earlier[enrollment_id]}"
                self.error(row.row_number, row.values, reason)
                continue
            user_created = pair[0] in new_user_ids and pair[0] not in welcomed
            welcomed.add(pair[0])
            self._applied(row, enrollment_id, created=pair in created_pairs, user_created=user_created)

    def _applied(self, row: _Row, enrollment_id: int, *, created: bool, user_created: bool) -> None:
        self.result.applied.append(
            ImportedEnrollment(
                import_job=self.job,
                row_number=row.row_number,
                enrollment_id=enrollment_id,
                enrollment_created=created,
                user_created=user_created,
                send_welcome=row.send_welcome,
            )
        )
        if created:
            self.result.enrollments_created += 1
        else:
            self.result.already_enrolled += 1


def chunk_apply(job: ImportJob, records: list[Record], course_cache: dict) -> ChunkResult:
    """Apply one chunk's rows; called inside the chunk's transaction with `job` locked."""
    chunk = _Chunk(job)
    rows = chunk.valid_rows(records, course_cache)
    if not rows:
        return chunk.result
    users, new_user_ids = _users_for(rows)
    chunk.result.users_created = len(new_user_ids)
    rows = chunk.with_users(rows, users)
    enrollments = _ensure_enrollments({(users[row.email], row.course.pk) for row in rows}, new_user_ids)
    chunk.record(rows, users, new_user_ids, enrollments)
    return chunk.result
