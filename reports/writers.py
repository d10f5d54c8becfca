"""Writing a report's rows to a file as they come (constant memory): CSV or XLSX.

CSV is UTF-8 with a BOM (spreadsheet programs then read it as UTF-8) and every text cell that a
spreadsheet would read as a formula neutralised (core.spreadsheets). XLSX goes through XlsxWriter in
constant-memory mode, each text cell written as text (never as a formula or a link), times as dates
in the site's time zone. Times come from the database already as local text (reports.expressions), the
table names their columns; a datetime given instead is converted here.
"""

import csv
from datetime import date, datetime

import xlsxwriter
from django.utils import timezone

from core.spreadsheets import csv_cell


def _local(value):
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def _cell(value):
    """A CSV cell: text neutralised, numbers and empty cells as they are (None is written empty)."""
    if value.__class__ is str:
        return csv_cell(value)
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


class CsvWriter:
    def __init__(self, path: str, header: list[str], *, times: frozenset[int] = frozenset()):
        self.handle = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed in close()
        self.writer = csv.writer(self.handle)
        self.writer.writerow([csv_cell(name) for name in header])

    def write(self, row: list) -> None:
        self.writer.writerow([_cell(value) for value in row])

    def close(self) -> None:
        self.handle.close()


class XlsxWriter:
    def __init__(self, path: str, header: list[str], *, times: frozenset[int] = frozenset()):
        self.times = frozenset()  # the header row is text throughout; the columns' times start below it
        self.book = xlsxwriter.Workbook(
            path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        self.sheet = self.book.add_worksheet("Report")
        self.when = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.row = 0
        self.write(header)
        self.times = times

    def write(self, row: list) -> None:
        for column, value in enumerate(row):
            if column in self.times and value:
                value = datetime.fromisoformat(value)
            value = _local(value)
            if isinstance(value, datetime):
                self.sheet.write_datetime(self.row, column, value, self.when)
            elif isinstance(value, bool | int | float):
                self.sheet.write_number(self.row, column, value)
            elif value is None or value == "":
                continue
            else:
                self.sheet.write_string(self.row, column, str(value))
        self.row += 1

    def close(self) -> None:
        self.book.close()


WRITERS = {"csv": CsvWriter, "xlsx": XlsxWriter}
