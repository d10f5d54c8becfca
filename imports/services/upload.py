"""Checking an upload in the request (size, then the head of the file, then every byte once) and storing it
with its first task."""

import codecs
import csv
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction

from imports.models import ImportJob
from imports.services.limits import (
    chunk_rows,
    import_max_bytes,
    too_large_message,
)
from jobs.enqueue import enqueue
from jobs.operations import operation_start

REQUIRED_COLUMNS = ("email", "full_name", "course")
OPTIONAL_COLUMNS = ("send_welcome",)
# The request reads this much of the file, whatever its size: enough for the header and the first rows.
SAMPLE_BYTES = 64 * 1024


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
    from imports.tasks import import_process_task

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
        chunk_rows=chunk_rows(),
    )
    # A generated name: the uploader's file name never becomes a storage path.
    job.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
    try:
        with transaction.atomic():
            job.operation, _ = operation_start(
                kind="import", started_by=job.uploaded_by, message="Waiting for a worker."
            )
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
