"""Bulk imports and bytes the database refuses: NUL and non-UTF-8 anywhere in the file are refused at
upload, naming the line; a chunk the database refuses leaves nothing of itself and fails the import; a
failed import never stays "running"; cancel ends an import whatever it is doing."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.spreadsheets import csv_cell
from enrollments.models import Enrollment
from imports import services as imports
from imports.models import ImportedEnrollment, ImportJob, ImportRowError
from imports.services import processing
from imports.signals import enrollments_imported
from imports.tasks import import_process_task
from jobs.models import Job
from tests.conftest import is_postgres
from tests.imports.test_imports import csv_bytes, run, start, upload
from tests.utils import field_errors

pytestmark = [pytest.mark.django_db]
User = get_user_model()

HEADER = b"email,full_name,course\n"


def learners(count: int, *, first: int = 0) -> bytes:
    return "".join(f"u{i}@example.org,Learner {i},python-101\n" for i in range(first, first + count)).encode()


def nul_file() -> bytes:
    """The attacker's file: 3,001 rows, a NUL byte in the 2,500th, far past the first 64 KB."""
    return HEADER + learners(2499) + b"bad\x00@example.org,Nul,python-101\n" + learners(501, first=2500)


def stored(content: bytes, monkeypatch) -> ImportJob:
    """An import of `content` as stored before uploads were scanned (the scan is skipped)."""
    monkeypatch.setattr("imports.services.upload.import_upload_scan", lambda *, upload: "0" * 64)
    job = start(content)
    monkeypatch.undo()
    return job


@pytest.fixture(autouse=True)
def _remove_stored_files(db):
    yield
    for job in ImportJob.objects.all():
        job.file.delete(save=False)


# --- Refused at upload -----------------------------------------------------------------------------


def test_a_nul_byte_after_the_first_64_kb_is_refused_in_the_api_naming_its_line(staff_api, course):
    content = nul_file()
    assert content.index(b"\x00") > imports.SAMPLE_BYTES

    response = upload(staff_api, content)

    assert response.status_code == 400
    assert field_errors(response)["file"][0].startswith("Line 2501 contains a NUL byte")
    assert not ImportJob.objects.exists() and not Job.objects.exists() and not User.objects.exclude(is_staff=True)


def test_bytes_that_are_not_utf8_after_the_first_64_kb_are_refused_in_the_api_naming_the_line(staff_api, course):
    content = HEADER + learners(5000) + "zoe@example.org,Zoë,python-101\n".encode("latin-1")

    response = upload(staff_api, content)

    assert response.status_code == 400
    assert field_errors(response)["file"][0].startswith("Line 5002 is not UTF-8 encoded")
    assert not ImportJob.objects.exists()


def test_a_utf8_character_split_across_read_chunks_is_accepted(staff_api, course):
    padding = "x" * (64 * 1024 - len(HEADER) - len("a@example.org,Zo") - 1)
    content = HEADER + f"a@example.org,{padding}Zoë,python-101\n".encode()
    assert content[64 * 1024 - 1 : 64 * 1024 + 1] == "ë".encode()  # the two bytes of ë straddle the chunks

    assert upload(staff_api, content).status_code == 202


def test_the_staff_page_shows_the_nul_byte_line_as_a_form_error(client, staff, course):
    client.force_login(staff)

    response = client.post("/staff/imports/new/", {"file": SimpleUploadedFile("a.csv", nul_file())})

    assert response.status_code == 200
    assert "Line 2501 contains a NUL byte" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_service_refuses_a_nul_byte_with_a_file_error_and_stores_nothing(course):
    with pytest.raises(ValidationError) as refused:
        start(nul_file())
    assert "Line 2501 contains a NUL byte" in refused.value.message_dict["file"][0]
    assert not ImportJob.objects.exists()


# --- Files stored before the scan ------------------------------------------------------------------


def test_a_stored_row_with_a_nul_byte_is_a_row_error_and_the_other_rows_are_applied(
    staff_api, course, settings, monkeypatch
):
    settings.IMPORT_CHUNK_ROWS = 2000
    job = run(stored(nul_file(), monkeypatch).pk)

    assert (job.status, job.rows_done, job.enrollments_created, job.errors) == ("completed", 3001, 3000, 1)
    assert Enrollment.objects.count() == 3000 and ImportRowError.objects.count() == 1
    report = b"".join(staff_api.get(f"/api/imports/{job.pk}/errors.csv").streaming_content).decode()
    assert "2501,bad\ufffd@example.org,Nul,python-101,the row contains a NUL byte" in report


def test_an_encoding_error_in_a_stored_file_fails_the_import_before_any_row_is_written(course, settings, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = 10
    content = HEADER + learners(5000) + "zoe@example.org,Zoë,python-101\n".encode("latin-1")

    job = run(stored(content, monkeypatch).pk)

    assert job.status == "failed" and job.error.startswith("Row 5002 is not UTF-8 encoded")
    assert not Enrollment.objects.exists() and User.objects.count() == 0


# --- A chunk the database refuses ------------------------------------------------------------------


def _counts(job: ImportJob) -> tuple:
    job.refresh_from_db()
    return (
        User.objects.filter(is_staff=False).count(),
        Enrollment.objects.count(),
        ImportedEnrollment.objects.filter(import_job=job).count(),
        ImportRowError.objects.filter(import_job=job).count(),
        job.rows_done,
        job.users_created,
        job.enrollments_created,
        job.errors,
        job.resume_row_number,
    )


def _refused_chunk_run(job: ImportJob, staff_api) -> ImportJob:
    heard = []

    def listener(sender, **kwargs):
        heard.extend(kwargs["enrollment_ids"])

    enrollments_imported.connect(listener, dispatch_uid="test-refused-chunk")
    try:
        job = run(job.pk)
        imports.import_notify(import_id=job.pk)
    finally:
        enrollments_imported.disconnect(dispatch_uid="test-refused-chunk")
    # Only the first chunk's enrollments were ever announced (welcome mail, webhooks).
    assert sorted(heard) == sorted(Enrollment.objects.values_list("pk", flat=True))
    body = staff_api.get(f"/api/imports/{job.pk}/").json()
    assert body["status"] == "failed" and body["error"] == job.error
    return job


@pytest.mark.postgres
def test_a_nul_byte_that_reaches_postgresql_fails_the_import_and_leaves_nothing_of_its_chunk(
    staff_api, course, settings, monkeypatch
):
    if not is_postgres():
        pytest.skip("only PostgreSQL refuses a NUL byte in text")
    settings.IMPORT_CHUNK_ROWS = 2000
    # The attacker's original run: the error row's values reached the database with their NUL.
    job = stored(HEADER + learners(2499) + b"bad\x00,Nul,python-101\n" + learners(501, first=2500), monkeypatch)
    monkeypatch.setattr("imports.services.applying.storable", lambda value: value)

    job = _refused_chunk_run(job, staff_api)

    assert job.error.startswith("Rows 2002-3002 could not be written (")
    # The first chunk, whole; of the second, nothing: no user, enrollment, applied row, error or count.
    assert _counts(job) == (2000, 2000, 2000, 0, 2000, 2000, 2000, 0, 2001)
    assert job.finished_at is not None


def test_a_chunk_the_database_refuses_fails_the_import_and_leaves_nothing_of_itself(
    staff_api, client, staff, course, settings, monkeypatch
):
    settings.IMPORT_CHUNK_ROWS = 4
    rows = [[f"u{i}@example.org", "U", "python-101"] for i in range(10)] + [["bad", "B", "python-101"]]
    job = start(csv_bytes(rows))
    original = processing.chunk_apply

    def second_chunk_has_an_unstorable_value(job, records, course_cache):
        result = original(job, records, course_cache)
        if records[0].row_number > 5:  # a lone surrogate: neither PostgreSQL nor SQLite can store it
            result.errors.append(ImportRowError(import_job=job, row_number=999, values=[], reason="\ud800"))
        return result

    monkeypatch.setattr(processing, "chunk_apply", second_chunk_has_an_unstorable_value)
    job = _refused_chunk_run(job, staff_api)

    assert job.error.startswith("Rows 6-9 could not be written (")
    assert _counts(job) == (4, 4, 4, 0, 4, 4, 4, 0, 5)
    client.force_login(staff)
    page = client.get(f"/staff/imports/{job.pk}/").content.decode()
    assert "Rows 6-9 could not be written (" in page  # staff see why
    assert imports.import_resume(import_job=job) is False  # failed is final: nothing to resume


def test_an_unexpected_error_in_the_task_ends_the_import_failed_with_the_reason(course, monkeypatch):
    job = start(csv_bytes([["ann@example.org", "Ann", "python-101"]]))

    def broken(*args, **kwargs):
        raise ValueError("something nobody expected")

    monkeypatch.setattr(processing, "chunk_apply", broken)
    outcome = import_process_task.apply(kwargs={"import_id": job.pk})

    assert outcome.failed()
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "The import stopped: ValueError: something nobody expected")
    assert job.finished_at is not None and not Enrollment.objects.exists()


# --- Cancel ----------------------------------------------------------------------------------------


def _stuck_running(settings, *, cancel_asked: bool = False) -> ImportJob:
    settings.IMPORT_CHUNK_ROWS = 3
    job = start(csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(10)]))
    job = imports.import_process(import_id=job.pk, budget_seconds=0)  # one chunk, then its task is lost
    if cancel_asked:  # asked under the old rules, which waited for a task that never came
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested_at=job.updated_at)
    return job


@pytest.mark.parametrize("cancel_asked", [False, True], ids=["running", "running-with-cancel-asked"])
def test_cancel_ends_a_stuck_running_import_at_once_and_keeps_its_committed_rows(
    staff_api, course, settings, cancel_asked
):
    job = _stuck_running(settings, cancel_asked=cancel_asked)
    assert staff_api.get(f"/api/imports/{job.pk}/").json()["cancel_url"].endswith(f"/api/imports/{job.pk}/cancel/")

    response = staff_api.post(f"/api/imports/{job.pk}/cancel/")

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["rows_done"], body["cancel_url"]) == ("cancelled", 3, None)
    assert body["finished_at"] is not None and Enrollment.objects.count() == 3
    assert staff_api.post(f"/api/imports/{job.pk}/cancel/").status_code == 409


def test_a_run_after_cancel_applies_nothing_more(course, settings):
    job = _stuck_running(settings)
    assert imports.import_cancel(import_job=job) is True

    job = imports.import_process(import_id=job.pk)

    assert (job.status, job.rows_done, Enrollment.objects.count()) == ("cancelled", 3, 3)


@pytest.mark.parametrize("status", ["queued", "validating"])
def test_cancel_ends_an_import_that_has_not_started(staff_api, course, status):
    job = start(csv_bytes([["ann@example.org", "Ann", "python-101"]]))
    ImportJob.objects.filter(pk=job.pk).update(status=status)

    assert staff_api.post(f"/api/imports/{job.pk}/cancel/").json()["status"] == "cancelled"
    assert imports.import_process(import_id=job.pk).status == "cancelled" and not Enrollment.objects.exists()


def test_cancel_from_the_staff_page_ends_a_stuck_import(client, staff, course, settings):
    job = _stuck_running(settings, cancel_asked=True)
    client.force_login(staff)
    assert (
        f'action="/staff/imports/{job.pk}/cancel/" data-field="cancel" >'
        in client.get(f"/staff/imports/{job.pk}/").content.decode()
    )

    page = client.post(f"/staff/imports/{job.pk}/cancel/", follow=True).content.decode()

    assert "The import is cancelled" in page
    job.refresh_from_db()
    assert job.status == "cancelled"


# --- The error report in a spreadsheet -------------------------------------------------------------


def test_no_cell_of_the_error_report_is_read_as_a_formula_header_included(staff_api, course):
    header = ("email", "full_name", "course", '=HYPERLINK("http://evil.example")')
    rows = [
        ["=1+1", "+cmd|' /C calc'!A0", "python-101", "@SUM(A1)"],
        ["-2+3", "\t=1", "python-101", "\r=2"],
        ["bob@example.org", "Bob", "=nope", "- plain dash"],
    ]
    job = run(start(csv_bytes(rows, header=header)).pk)
    assert job.errors == 3

    report = b"".join(staff_api.get(f"/api/imports/{job.pk}/errors.csv").streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(report, newline="")))

    assert lines[0] == ["row", "email", "full_name", "course", '\'=hyperlink("http://evil.example")', "reason"]
    assert lines[1][1:5] == ["'=1+1", "'+cmd|' /C calc'!A0", "python-101", "'@SUM(A1)"]
    assert lines[2][1:5] == ["'-2+3", "'\t=1", "python-101", "'\r=2"]
    assert lines[3][1:5] == ["bob@example.org", "Bob", "'=nope", "'- plain dash"]
    assert lines[3][5] == "unknown course: =nope"  # starts with a letter: left as it is
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for line in lines for cell in line)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann = Bob", "Ann = Bob"),
        ("", ""),
        (7, 7),
    ],
)
def test_csv_cell_neutralises_what_a_spreadsheet_would_read_as_a_formula(value, cell):
    assert csv_cell(value) == cell
