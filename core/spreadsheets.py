"""CSV files this project writes for people to open in a spreadsheet: every cell neutralised.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets skip
before reading one of those) is read as a formula when staff open the file: a learner's "name" or a
column header in an uploaded file could then run `=HYPERLINK(...)` or worse on a staff machine. Following
OWASP's advice, such a cell gets a leading `'`, which spreadsheets show as text and hide.
"""

import csv
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """`value` as a cell no spreadsheet reads as a formula (numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for csv.writer into a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]], *, delimiter: str = ",") -> Iterator[str]:
    """The CSV text of `rows`, one line at a time (for a streaming response), every cell neutralised."""
    writer = csv.writer(_Echo(), delimiter=delimiter)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])
