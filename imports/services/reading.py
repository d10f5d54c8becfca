"""Reading the stored file in the task: records with the byte offset after each one (the resume point)."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from imports.models import ImportJob

# A line longer than this is not a row of names and addresses: refused before it can fill memory.
MAX_LINE_BYTES = 1024 * 1024


class FileError(Exception):
    """The stored file cannot be imported as a whole (found by the validating pass)."""


@dataclass
class Record:
    row_number: int
    fields: list[str]


def records_from(handle, *, delimiter: str, offset: int, row_number: int) -> Iterator[tuple[Record, int]]:
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


def validate_pass(job: ImportJob) -> tuple[int, int]:
    """Read the whole file once; returns (data rows, byte offset after the header). Raises FileError."""
    with job.file.open("rb") as handle:
        records = records_from(handle, delimiter=job.delimiter, offset=0, row_number=0)
        first = next(records, None)
        if first is None:
            raise FileError("The file is empty.")
        _header, header_end = first
        count = sum(1 for _ in records)
    if count == 0:
        raise FileError("The file has a header but no rows.")
    return count, header_end
