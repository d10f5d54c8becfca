"""Bulk enrollment from a CSV file: checking an upload, applying it in chunks, cancelling, notifying.

The life of an import (see ImportJob's docstring for why it is shaped this way):

    request: import_start    size, then the head of the file; stores it, one ImportJob (queued), one task
    task:    import_process  validating: the whole file decodes and parses, rows counted (nothing written)
                             running: chunks of `chunk_rows` rows, one transaction each, for a time budget,
                             then the next run is queued from the resume point
                             -> completed | failed (file-level error) | cancelled (at a chunk boundary)
    task:    import_notify   behind the chunks: `enrollments_imported` per batch of applied rows

Rows are written set-based: per chunk a handful of queries whatever its size (users by email, bulk insert
of the missing ones, enrollments by (learner, course), bulk insert, the import's earlier rows for the
duplicate check, bulk inserts of applied rows and errors, the progress update).
"""

import codecs
import csv
import hashlib
import logging
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DataError, IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone

from courses.models import Course
from enrollments.models import Enrollment, ImportedEnrollment, ImportJob, ImportRowError
from enrollments.signals import enrollments_imported
from lms.accounts.names import normalize_name
from lms.tasks import enqueue

logger = logging.getLogger(__name__)

# Defaults of the IMPORT_* settings (read when used, never at import time).
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_CHUNK_ROWS = 2000
DEFAULT_TASK_BUDGET_SECONDS = 20
DEFAULT_NOTIFY_BATCH_ROWS = 1000

REQUIRED_COLUMNS = ("email", "full_name", "course")
OPTIONAL_COLUMNS = ("send_welcome",)
# The request reads this much of the file, whatever its size: enough for the header and the first rows.
SAMPLE_BYTES = 64 * 1024
# A line longer than this is not a row of names and addresses: refused before it can fill memory.
MAX_LINE_BYTES = 1024 * 1024
# A notify marker older than this belongs to a message that was lost: the next chunk queues another.
NOTIFY_STALE_AFTER = timedelta(minutes=10)

TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "off"})
FULL_NAME_MAX = 200
# What PostgreSQL refuses in a text or jsonb value: NUL, and lone surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
EMAIL_MAX = 254

User = get_user_model()


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def import_max_bytes() -> int:
    return _setting("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def too_large_message(size: int | None) -> str:
    limit = import_max_bytes()
    found = f"The file is {_megabytes(size)}" if size else "The file is too large"
    return f"{found}; the limit is {_megabytes(limit)}. Split it into smaller files."


# --- Checking an upload (in the request) ----------------------------------------------------------


@dataclass(frozen=True)
class UploadShape:
    delimiter: str
    header: list[str]


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": message})


def _sniff_header(first_line: str) -> UploadShape:
    """The delimiter (comma or semicolon) under which the header names the required columns."""
    candidates = []
    for delimiter in (",", ";"):
        names = next(csv.reader([first_line], delimiter=delimiter), [])
        normalised = [name.strip().lower() for name in names]
        missing = [c for c in REQUIRED_COLUMNS if c not in normalised]
        candidates.append((len(missing), delimiter, normalised, missing, names))
    candidates.sort(key=lambda c: c[0])
    _, delimiter, normalised, missing, names = candidates[0]
    if missing:
        found = ", ".join(n.strip() for n in names if n.strip())[:200] or "nothing"
        raise _refuse(
            f"Missing required column(s): {', '.join(missing)}. The first line must name the columns "
            f"email, full_name, course (and optionally send_welcome), separated by commas or semicolons; "
            f"found: {found}."
        )
    duplicated = sorted({n for n in normalised if n and normalised.count(n) > 1})
    if duplicated:
        raise _refuse(f"Column(s) named more than once: {', '.join(duplicated)}.")
    return UploadShape(delimiter=delimiter, header=normalised)


def import_upload_check(*, upload) -> UploadShape:
    """Check an uploaded file before anything is stored; returns its delimiter and header.

    The size comes first and from the upload's metadata, so a file over IMPORT_MAX_BYTES is refused
    without reading it. Then only the first SAMPLE_BYTES are read: binary content, an encoding other than
    UTF-8 (with or without BOM), a header without the required columns, a file with no rows. Raises
    ValidationError({"file": message}); has no side effects.
    """
    if upload is None:
        raise _refuse("Choose a CSV file to upload.")
    size = upload.size
    if size is not None and size > import_max_bytes():
        raise _refuse(too_large_message(size))
    if not size:
        raise _refuse("The file is empty.")
    upload.seek(0)
    head = upload.read(SAMPLE_BYTES)
    upload.seek(0)
    whole = len(head) >= size
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refuse("The file is encoded as UTF-16. Save it as “CSV UTF-8” and upload it again.")
    if head.startswith(b"PK\x03\x04"):
        raise _refuse("This is a spreadsheet or ZIP file, not a CSV file. Save it as “CSV UTF-8” first.")
    if b"\x00" in head:
        raise _refuse("This is not a CSV file: it contains binary data.")
    try:
        # Incremental: the sample may end inside a multi-byte character, which is not an error.
        sample = codecs.getincrementaldecoder("utf-8-sig")(errors="strict").decode(head, final=whole)
    except UnicodeDecodeError as exc:
        raise _refuse(
            f"The file is not UTF-8 encoded (byte {exc.start + 1} cannot be read as UTF-8). "
            "Save it as “CSV UTF-8” and upload it again."
        ) from None
    if not sample.strip():
        raise _refuse("The file is empty.")
    if "\n" not in sample and not whole:
        if "\r" in sample:
            raise _refuse("Lines end with a bare carriage return (old Mac format). Save it as “CSV UTF-8”.")
        raise _refuse("This is not a CSV file: its first line is longer than 64 KB.")
    lines = sample.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    shape = _sniff_header(first)
    # Rows after the header, parsed as the task will parse them (the last line may be cut at the sample's end).
    rest = lines[lines.index(first) + 1 :]
    if not whole and rest:
        rest = rest[:-1]
    try:
        has_rows = any(any(f.strip() for f in row) for row in csv.reader(rest, delimiter=shape.delimiter))
    except csv.Error as exc:
        raise _refuse(f"This is not a valid CSV file: {exc}.") from None
    if not has_rows and whole:
        raise _refuse("The file has a header but no rows.")
    return shape


def _line_of(data: bytes, index: int, lines_before: int) -> int:
    return lines_before + data.count(b"\n", 0, max(0, index)) + 1


def import_upload_scan(*, upload) -> str:
    """Read the whole upload once: its SHA-256, refusing bytes the database cannot store.

    The request's check reads only the head of the file; a NUL byte or a byte that is not UTF-8 further
    down would otherwise reach the task, where PostgreSQL refuses a NUL in text. Refused here, naming the
    line, with nothing stored. Raises ValidationError({"file": message}).
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    lines = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        nul = chunk.find(b"\x00")
        if nul >= 0:
            upload.seek(0)
            raise _refuse(
                f"Line {_line_of(chunk, nul, lines)} contains a NUL byte (binary data), which cannot be "
                "imported. Remove it (or save the file again as “CSV UTF-8”) and upload it again."
            )
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            upload.seek(0)
            raise _refuse(
                f"Line {_line_of(chunk, exc.start - pending, lines)} is not UTF-8 encoded. "
                "Save the file as “CSV UTF-8” and upload it again."
            ) from None
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        upload.seek(0)
        raise _refuse(f"Line {lines + 1} ends inside a character: the file is not UTF-8 encoded.") from None
    upload.seek(0)
    return digest.hexdigest()


def import_start(*, upload, uploaded_by, send_welcome: bool = True) -> ImportJob:
    """Check `upload`, store it and queue its processing; returns the queued ImportJob.

    Raises ValidationError({"file": message}) for a file that cannot be imported, having written nothing.
    Side effects: the file in default storage under imports/, one ImportJob row, one queued task.
    """
    from enrollments.tasks import import_process_task

    shape = import_upload_check(upload=upload)
    sha256 = import_upload_scan(upload=upload)
    original_name = PurePath(upload.name or "upload.csv").name[:255]
    job = ImportJob(
        uploaded_by=uploaded_by if getattr(uploaded_by, "is_authenticated", False) else None,
        original_name=original_name,
        size=upload.size,
        sha256=sha256,
        delimiter=shape.delimiter,
        header=shape.header,
        send_welcome=send_welcome,
        chunk_rows=max(1, _setting("IMPORT_CHUNK_ROWS", DEFAULT_CHUNK_ROWS)),
    )
    # A generated name: the uploader's file name never becomes a storage path.
    job.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
            enqueue(import_process_task, import_id=job.pk)
    except BaseException:
        job.file.delete(save=False)
        raise
    return job


def import_same_file_earlier(*, import_job: ImportJob) -> ImportJob | None:
    """An earlier import of a byte-identical file, if any (a re-upload creates nothing new; staff may
    still like to know)."""
    return (
        ImportJob.objects.filter(sha256=import_job.sha256, created_at__lt=import_job.created_at)
        .exclude(pk=import_job.pk)
        .order_by("-created_at")
        .first()
    )


# --- Reading the stored file (in the task) --------------------------------------------------------


class FileError(Exception):
    """The stored file cannot be imported as a whole (found by the validating pass)."""


@dataclass
class Record:
    row_number: int
    fields: list[str]


def _records(handle, *, delimiter: str, offset: int, row_number: int) -> Iterator[tuple[Record, int]]:
    """Yield (record, byte offset just after it) from `offset`, numbering records after `row_number`.

    The csv module asks for one line at a time and never reads past the end of the record it returns,
    so the bytes consumed when it yields are exactly the record's end: a resume point that survives the
    process. Blank records are skipped (they still take a row number, so numbers match the file).
    """
    handle.seek(offset)
    position = offset
    line_number = 0

    def lines():
        nonlocal position, line_number
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise FileError(f"Row {row_number + 1}: a line is longer than {MAX_LINE_BYTES // 1024} KB.")
            try:
                text = raw.decode("utf-8-sig" if position == 0 else "utf-8")
            except UnicodeDecodeError:
                raise FileError(
                    f"Row {row_number + 1} is not UTF-8 encoded. Save the file as “CSV UTF-8” and upload it again."
                ) from None
            position += len(raw)
            yield text

    reader = csv.reader(lines(), delimiter=delimiter, strict=False)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileError(f"Row {row_number + 1} is not valid CSV: {exc}.") from None
        row_number += 1
        if any(f.strip() for f in fields):
            yield Record(row_number=row_number, fields=fields), position


def _validate_pass(job: ImportJob) -> tuple[int, int]:
    """Read the whole file once; returns (data rows, byte offset after the header). Raises FileError."""
    with job.file.open("rb") as handle:
        records = _records(handle, delimiter=job.delimiter, offset=0, row_number=0)
        first = next(records, None)
        if first is None:
            raise FileError("The file is empty.")
        _header, header_end = first
        count = sum(1 for _ in records)
    if count == 0:
        raise FileError("The file has a header but no rows.")
    return count, header_end


# --- Applying chunks ------------------------------------------------------------------------------


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


def _storable(value: str) -> str:
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
    if any(_storable(value) != value for value in record.fields):
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


def _chunk_apply(job: ImportJob, records: list[Record], course_cache: dict) -> ChunkResult:
    """Apply one chunk's rows; called inside the chunk's transaction with `job` locked."""
    result = ChunkResult()
    columns = {name: i for i, name in enumerate(job.header)}

    def cell(fields: list[str], name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None and index < len(fields) else ""

    def error(record: Record, reason: str) -> None:
        values = [_storable(value) for value in record.fields]
        result.errors.append(
            ImportRowError(import_job=job, row_number=record.row_number, values=values, reason=reason[:300])
        )

    _courses_for({cell(r.fields, "course") for r in records} - {""}, course_cache)
    rows: list[_Row] = []
    first_of: dict[tuple[str, int], int] = {}
    for record in records:
        row = _row_of(record, cell, course_cache, job.send_welcome)
        if isinstance(row, str):
            error(record, row)
            continue
        email, course = row.email, row.course
        earlier = first_of.setdefault((email, course.pk), record.row_number)
        if earlier != record.row_number:
            error(record, f"duplicate row: same email and course as row {earlier}")
            continue
        rows.append(row)
    if not rows:
        return result

    users, new_user_ids = _users_for(rows)
    result.users_created = len(new_user_ids)

    unmatched = [row for row in rows if row.email not in users]
    for row in unmatched:  # an address the database folds differently from Python: never loop on it
        error(Record(row.row_number, row.values), f"could not create a user for {row.email[:100]}")
    rows = [row for row in rows if row.email in users]

    # Enrollments: which exist, create the rest; then every pair's id.
    pairs = {(users[row.email], row.course.pk) for row in rows}

    # Learners created just now have no enrollments yet (not visible to anyone else before commit).
    enrollment_ids = _enrollments_of({p for p in pairs if p[0] not in new_user_ids})
    to_create = pairs - enrollment_ids.keys()
    created_pairs: set[tuple[int, int]] = set()
    if to_create:
        Enrollment.objects.bulk_create(
            [Enrollment(learner_id=lid, course_id=cid) for lid, cid in to_create],
            ignore_conflicts=True,  # enrolled by hand since the select: counted as already enrolled below
            batch_size=1000,
        )
        fresh = _enrollments_of(to_create)
        created_pairs = set(fresh)
        enrollment_ids.update(fresh)
    # Imports never cancel or re-activate enrollments: an imported row for a cancelled one stays as it is.

    # Rows of this import applied earlier (an earlier chunk) make the same pair here a duplicate.
    earlier = dict(
        ImportedEnrollment.objects.filter(import_job=job, enrollment_id__in=enrollment_ids.values()).values_list(
            "enrollment_id", "row_number"
        )
    )
    welcomed: set[int] = set()
    for row in rows:
        pair = (users[row.email], row.course.pk)
        enrollment_id = enrollment_ids[pair]
        if enrollment_id in earlier:
            error(
                Record(row.row_number, row.values),
                f"duplicate row: same email and course as row {earlier[enrollment_id]}",
            )
            continue
        created = pair in created_pairs
        user_created = pair[0] in new_user_ids and pair[0] not in welcomed
        if user_created:
            welcomed.add(pair[0])
        result.applied.append(
            ImportedEnrollment(
                import_job=job,
                row_number=row.row_number,
                enrollment_id=enrollment_id,
                enrollment_created=created,
                user_created=user_created,
                send_welcome=row.send_welcome,
            )
        )
        if created:
            result.enrollments_created += 1
        else:
            result.already_enrolled += 1
    return result


def _notify_request(job: ImportJob, now) -> None:
    """With `job` locked: make sure one notify run is queued (the marker stops a second one)."""
    from enrollments.tasks import import_notify_task

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


def _locked(import_id: int) -> ImportJob:
    return ImportJob.objects.select_for_update().get(pk=import_id)


def _cancel_if_requested(job: ImportJob, now) -> bool:
    if job.cancel_requested_at is None:
        return False
    _finish(job, ImportJob.Status.CANCELLED, now)
    job.save()
    return True


def _run_validation(import_id: int) -> ImportJob | None:
    """The validating pass: queued -> validating -> running | failed | cancelled. None: not ours to run."""
    with transaction.atomic():
        job = _locked(import_id)
        if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.VALIDATING):
            return job
        if _cancel_if_requested(job, timezone.now()):
            return job
        job.status = ImportJob.Status.VALIDATING
        job.save(update_fields=["status", "updated_at"])
    try:
        total, header_end = _validate_pass(job)
        error = ""
    except FileError as exc:
        total, header_end, error = None, 0, str(exc)
    except FileNotFoundError:
        total, header_end, error = None, 0, "The uploaded file is missing from storage."
    now = timezone.now()
    with transaction.atomic():
        job = _locked(import_id)
        if job.status != ImportJob.Status.VALIDATING:
            return job  # a concurrent duplicate run got here first
        if _cancel_if_requested(job, now):
            return job
        if error:
            _finish(job, ImportJob.Status.FAILED, now, error=error)
        else:
            job.status, job.total_rows, job.started_at = ImportJob.Status.RUNNING, total, now
            job.resume_offset, job.resume_row_number, job.rows_done = header_end, 1, 0
        job.save()
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
        job = _locked(import_id)
        if job.status != ImportJob.Status.RUNNING or job.resume_offset != offset:
            return job  # finished, or another run moved on: this one stops
        if _cancel_if_requested(job, now):
            return job
        if batch:
            result = _chunk_apply(job, [record for record, _ in batch], course_cache)
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
        job.save()
    return job if exhausted else None


def import_fail(*, import_id: int, error: str) -> ImportJob | None:
    """End an unfinished import as failed with `error` (staff see it on the page and in the API).

    Its committed chunks stay (each one is whole); returns the job, None if it does not exist.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=import_id).first()
        if job is not None and not job.is_finished:
            _finish(job, ImportJob.Status.FAILED, timezone.now(), error=error[:2000] or "The import failed.")
            job.save()
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
    from enrollments.tasks import import_process_task

    if budget_seconds is None:
        budget_seconds = _setting("IMPORT_TASK_BUDGET_SECONDS", DEFAULT_TASK_BUDGET_SECONDS)
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
            records = _records(handle, delimiter=job.delimiter, offset=offset, row_number=job.resume_row_number)
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
        job = _locked(import_id)
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
        job = _locked(import_job.pk)
        cancelled = not job.is_finished
        if cancelled:
            job.cancel_requested_at = job.cancel_requested_at or now
            _finish(job, ImportJob.Status.CANCELLED, now)
            job.save()
    import_job.refresh_from_db()
    return cancelled


def import_resume(*, import_job: ImportJob) -> bool:
    """Queue another processing run of an unfinished import, and a notify run if announcements lag (after
    a lost message); harmless if one is running already: the resume point and cursor checks turn it away."""
    from enrollments.tasks import import_notify_task, import_process_task

    resumed = False
    with transaction.atomic():
        if not import_job.is_finished:
            enqueue(import_process_task, import_id=import_job.pk)
            resumed = True
        if import_job.notified_through_row < import_job.resume_row_number:
            enqueue(import_notify_task, import_id=import_job.pk)
            resumed = True
    return resumed


# --- Notifications ----------------------------------------------------------------------------------


def import_notify(*, import_id: int, budget_seconds: float | None = None) -> int:
    """Announce the import's applied rows not yet announced, in batches; returns rows announced.

    Each batch sends `enrollments_imported` (receivers queue the welcome mail and webhooks) and advances
    `notified_through_row` in one transaction, so a rerun after a crash repeats nothing committed (and a
    repeat would be harmless: emails and webhook events are deduplicated downstream). Queues itself
    again while rows remain; clears the marker when caught up.
    """
    from enrollments.tasks import import_notify_task

    if budget_seconds is None:
        budget_seconds = _setting("IMPORT_TASK_BUDGET_SECONDS", DEFAULT_TASK_BUDGET_SECONDS)
    batch_rows = _setting("IMPORT_NOTIFY_BATCH_ROWS", DEFAULT_NOTIFY_BATCH_ROWS)
    deadline = time.monotonic() + budget_seconds
    announced = 0
    while time.monotonic() < deadline:
        job = ImportJob.objects.filter(pk=import_id).first()
        if job is None:
            return announced
        start, done_through = job.notified_through_row, job.resume_row_number
        if start >= done_through:
            break
        end = min(done_through, start + batch_rows)
        with transaction.atomic():
            rows = list(
                ImportedEnrollment.objects.filter(import_job_id=import_id, row_number__gt=start, row_number__lte=end)
                .filter(Q(enrollment_created=True) | Q(user_created=True, send_welcome=True))
                .values_list(
                    "enrollment_id", "enrollment__learner_id", "enrollment_created", "user_created", "send_welcome"
                )
            )
            moved = ImportJob.objects.filter(pk=import_id, notified_through_row=start).update(notified_through_row=end)
            if not moved:
                return announced  # a duplicate run announced these
            enrollment_ids = [r[0] for r in rows if r[2]]
            welcome_user_ids = [r[1] for r in rows if r[3] and r[4]]
            if enrollment_ids or welcome_user_ids:
                enrollments_imported.send(
                    sender=ImportJob,
                    import_id=import_id,
                    enrollment_ids=enrollment_ids,
                    welcome_user_ids=welcome_user_ids,
                )
        announced += len(rows)
    with transaction.atomic():
        job = _locked(import_id)
        if job.notified_through_row < job.resume_row_number:
            enqueue(import_notify_task, import_id=import_id)
        else:
            job.notify_requested_at = None
            job.save(update_fields=["notify_requested_at", "updated_at"])
    return announced
