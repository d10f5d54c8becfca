"""Bulk enrollment imports: the upload's checks, applying rows in chunks, resuming, cancelling, the error
report, the progress API and pages. The task's service runs in the test process here; the real worker
runs it in test_imports_integration.py."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from enrollments.models import Enrollment
from imports import services as imports
from imports.models import ImportedEnrollment, ImportJob, ImportRowError
from imports.services import processing
from imports.signals import enrollments_imported
from jobs.models import Job
from tests.courses.factories import CourseFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory
from tests.utils import field_errors

pytestmark = [pytest.mark.django_db]
User = get_user_model()


def csv_bytes(rows, *, header=("email", "full_name", "course"), delimiter=",", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


@pytest.fixture(autouse=True)
def _remove_stored_files(db):
    yield
    for job in ImportJob.objects.all():
        job.file.delete(save=False)


def upload(staff_api, content: bytes, name: str = "learners.csv", **data):
    return staff_api.post(
        "/api/imports/", {"file": SimpleUploadedFile(name, content, "text/csv"), **data}, format="multipart"
    )


def run(job_id: int, **kwargs) -> ImportJob:
    """Run processing runs to the end, as the chain of tasks would."""
    for _ in range(1000):
        job = imports.import_process(import_id=job_id, **kwargs)
        if job.is_finished:
            return job
    raise AssertionError("the import did not finish")


def start(content: bytes, by=None, *, send_welcome=True) -> ImportJob:
    return imports.import_start(
        upload=SimpleUploadedFile("f.csv", content, "text/csv"), uploaded_by=by, send_welcome=send_welcome
    )


# --- The upload's checks ---------------------------------------------------------------------------


def test_upload_answers_202_with_the_operation_url_and_queues_the_processing_task(staff_api, course):
    response = upload(staff_api, csv_bytes([["ann@example.org", "Ann", "python-101"]]))

    assert response.status_code == 202
    body = response.json()
    job = ImportJob.objects.get(pk=body["id"])
    assert response["Location"] == body["operation_url"]
    assert body["operation_url"].endswith(f"/api/operations/{job.operation_id}/")
    assert body["url"].endswith(f"/api/imports/{body['id']}/")
    assert job.operation.kind == "import" and job.operation.state == "queued"
    followed = staff_api.get(response["Location"]).json()
    assert followed["state"] == "queued" and followed["kind"] == "import"
    assert body["status"] == "queued" and body["original_name"] == "learners.csv" and body["send_welcome"] is True
    assert job.file.read().startswith(b"email,full_name,course")
    queued = Job.objects.get(task_name="enrollments.import_process")
    assert queued.queue == "imports" and queued.kwargs == {"import_id": job.pk} and queued.about == job


def test_send_welcome_form_value_false_is_kept_and_absent_means_true(staff_api, course):
    content = csv_bytes([["ann@example.org", "Ann", "python-101"]])
    assert upload(staff_api, content, send_welcome="false").json()["send_welcome"] is False
    assert upload(staff_api, content).json()["send_welcome"] is True


BAD_FILES = {
    "empty": (b"", "The file is empty."),
    "blank lines only": (b"\r\n\r\n  \n", "The file is empty."),
    "header only": (b"email,full_name,course\r\n", "The file has a header but no rows."),
    "missing column": (b"email,name,course\nann@example.org,Ann,python-101\n", "Missing required column(s): full_name"),
    "latin-1": ("email,full_name,course\nzoe@example.org,Zoë,python-101\n".encode("latin-1"), "not UTF-8 encoded"),
    "utf-16": ("email,full_name,course\n".encode("utf-16"), "UTF-16"),
    "png image": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "not a CSV file"),
    "xlsx": (b"PK\x03\x04\x14\x00\x06\x00" + bytes(100), "spreadsheet or ZIP file"),
    "one endless line": (b"email,full_name,course" + b"x" * 70_000, "first line is longer than 64 KB"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_written(staff_api, course, case):
    content, message = BAD_FILES[case]
    response = upload(staff_api, content)

    assert response.status_code == 400
    assert message in field_errors(response)["file"][0]
    assert not ImportJob.objects.exists() and not Job.objects.exists()


def test_a_file_over_the_size_limit_is_refused_in_the_api(staff_api, course, settings):
    settings.IMPORT_MAX_BYTES = 2000
    content = csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(200)])
    assert len(content) > 2000

    response = upload(staff_api, content)

    assert response.status_code == 400
    assert "the limit is 0.0 MB" in field_errors(response)["file"][0]
    assert not ImportJob.objects.exists()


def test_the_size_is_checked_before_a_byte_of_the_file_is_read(settings):
    settings.IMPORT_MAX_BYTES = 200 * 1024 * 1024

    class OneGigabyteUpload:
        name, size = "huge.csv", 1024**3

        def read(self, *args):
            raise AssertionError("the file was read")

        seek = chunks = read

    with pytest.raises(ValidationError) as refused:
        imports.import_upload_check(upload=OneGigabyteUpload())
    assert refused.value.message_dict["file"] == [
        "The file is 1024.0 MB; the limit is 200.0 MB. Split it into smaller files."
    ]


def test_an_oversized_request_body_is_not_read_past_the_limit(staff_api, course, settings):
    """The upload handler stops at the declared length: the file part never reaches a temporary file."""
    from imports.forms import ImportUploadLimit

    settings.IMPORT_MAX_BYTES = 1000
    seen = []
    original = ImportUploadLimit.receive_data_chunk

    def spy(self, raw_data, start):
        seen.append(len(raw_data))
        return original(self, raw_data, start)

    content = csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(5000)])
    ImportUploadLimit.receive_data_chunk = spy
    try:
        response = upload(staff_api, content)
    finally:
        ImportUploadLimit.receive_data_chunk = original
    assert response.status_code == 400 and "limit" in field_errors(response)["file"][0]
    assert seen == []


def test_only_staff_may_upload(api_client, course):
    api_client.force_authenticate(UserFactory())
    assert upload(api_client, csv_bytes([["a@example.org", "A", "python-101"]])).status_code == 403


# --- Applying rows ---------------------------------------------------------------------------------


def test_bom_and_semicolons_with_extra_columns_and_any_header_case_are_read(course):
    content = csv_bytes(
        [["Ann@Example.org", "Ann Smith", "python-101", "x"], ["bob@example.org", "Bob", "python-101", ""]],
        header=("Email", " Full_Name", "COURSE", "notes"),
        delimiter=";",
        bom=True,
    )
    job = run(start(content).pk)

    assert job.status == "completed" and job.delimiter == ";"
    assert (job.users_created, job.enrollments_created, job.already_enrolled, job.errors) == (2, 2, 0, 0)
    ann = User.objects.get(email="ann@example.org")
    assert ann.full_name == "Ann Smith" and not ann.has_usable_password()
    assert Enrollment.objects.filter(course=course).count() == 2


def test_existing_learners_are_matched_case_insensitively_and_their_names_kept(course):
    existing = UserFactory(email="ann@example.org", full_name="Ann Original")
    EnrollmentFactory(learner=existing, course=CourseFactory(slug="other"))
    job = run(start(csv_bytes([["ANN@example.org", "Renamed", "python-101"], ["ann@example.org", "A", "other"]])).pk)

    assert (job.users_created, job.enrollments_created, job.already_enrolled) == (0, 1, 1)
    existing.refresh_from_db()
    assert existing.full_name == "Ann Original" and existing.has_usable_password()
    assert User.objects.count() == 1


def test_bad_rows_are_reported_with_row_number_row_and_reason_and_the_rest_applied(staff_api, course):
    CourseFactory(slug="draft", is_published=False)
    rows = [
        ["ann@example.org", "Ann", "python-101", "yes"],  # row 2
        ["not-an-email", "X", "python-101", ""],  # 3
        ["", "No Email", "python-101", ""],  # 4
        ["bob@example.org", "Bob", "nope", ""],  # 5
        ["bob@example.org", "Bob", "", ""],  # 6
        ["cat@example.org", "Cat", "draft", ""],  # 7
        ["dan@example.org", "Dan", "python-101", "maybe"],  # 8
        ["ANN@example.org", "Ann again", "python-101", ""],  # 9
        ["eve@example.org", "Ève", "python-101", "no"],  # 10
    ]
    header = ("email", "full_name", "course", "send_welcome")
    job = run(start(csv_bytes(rows, header=header)).pk)

    assert (job.users_created, job.enrollments_created, job.errors) == (2, 2, 7)
    report = staff_api.get(f"/api/imports/{job.pk}/errors.csv")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == ["row", "email", "full_name", "course", "send_welcome", "reason"]
    assert [(line[0], line[-1]) for line in lines[1:]] == [
        ("3", "invalid email address: not-an-email"),
        ("4", "missing email"),
        ("5", "unknown course: nope"),
        ("6", "missing course"),
        ("7", "course is not published: draft"),
        ("8", "send_welcome must be yes or no (true/false, 1/0)"),
        ("9", "duplicate row: same email and course as row 2"),
    ]
    assert lines[1][1:5] == ["not-an-email", "X", "python-101", ""]


def test_a_duplicate_far_apart_in_the_file_is_reported_across_chunks(course, settings):
    settings.IMPORT_CHUNK_ROWS = 2
    rows = [[f"u{i}@example.org", "U", "python-101"] for i in range(5)] + [["u0@example.org", "U", "python-101"]]
    job = run(start(csv_bytes(rows)).pk)

    assert (job.enrollments_created, job.errors, job.rows_done, job.total_rows) == (5, 1, 6, 6)
    assert ImportRowError.objects.get().reason == "duplicate row: same email and course as row 2"


def test_uploading_the_same_file_again_creates_nothing_new(course):
    content = csv_bytes([["ann@example.org", "Ann", "python-101"], ["bad", "B", "python-101"]])
    first = run(start(content).pk)
    users, enrollments = User.objects.count(), Enrollment.objects.count()

    second = run(start(content).pk)

    assert (User.objects.count(), Enrollment.objects.count()) == (users, enrollments)
    assert (second.users_created, second.enrollments_created, second.already_enrolled, second.errors) == (0, 0, 1, 1)
    assert imports.import_same_file_earlier(import_job=second) == first


def test_a_run_out_of_time_queues_the_next_run_from_its_resume_point(course, settings):
    settings.IMPORT_CHUNK_ROWS = 3
    job = start(csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(10)]))
    Job.objects.all().delete()

    job = imports.import_process(import_id=job.pk, budget_seconds=0)

    assert (job.status, job.rows_done, job.enrollments_created) == ("running", 3, 3)
    assert Job.objects.filter(task_name="enrollments.import_process", kwargs={"import_id": job.pk}).count() == 1
    assert run(job.pk, budget_seconds=0).enrollments_created == 10


def test_a_crash_inside_a_chunk_leaves_nothing_of_it_and_the_rerun_ends_as_an_uninterrupted_run(
    course, settings, monkeypatch
):
    settings.IMPORT_CHUNK_ROWS = 4
    rows = [[f"u{i}@example.org", "U", "python-101"] for i in range(10)] + [["bad", "B", "python-101"]]
    job = start(csv_bytes(rows))
    calls = {"n": 0}
    original = processing.chunk_apply

    def crash_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        result = original(*args, **kwargs)  # writes users and enrollments, then the process "dies"
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return result

    monkeypatch.setattr(processing, "chunk_apply", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        imports.import_process(import_id=job.pk)
    job.refresh_from_db()
    assert (job.rows_done, Enrollment.objects.count(), User.objects.count()) == (4, 4, 4)

    job = run(job.pk)

    assert (job.status, job.rows_done, job.users_created, job.enrollments_created, job.errors) == (
        "completed",
        11,
        10,
        10,
        1,
    )
    assert Enrollment.objects.count() == 10 and ImportedEnrollment.objects.count() == 10
    assert ImportRowError.objects.count() == 1


def test_a_duplicate_run_finds_the_resume_point_moved_and_applies_nothing(course, settings, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = 2
    job = start(csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(4)]))
    imports.import_process(import_id=job.pk, budget_seconds=0)  # validated, first chunk applied
    original = processing.locked
    raced = []

    def another_run_commits_first(import_id):
        if not raced:
            raced.append(True)
            imports.import_process(import_id=import_id, budget_seconds=0)  # a redelivered copy of the task
        return original(import_id)

    monkeypatch.setattr(processing, "locked", another_run_commits_first)
    stopped = imports.import_process(import_id=job.pk)

    assert (stopped.status, stopped.rows_done) == ("running", 4)  # the copy applied the chunk; this run stopped
    monkeypatch.setattr(processing, "locked", original)
    job = run(job.pk)
    assert (job.rows_done, job.enrollments_created, Enrollment.objects.count()) == (4, 4, 4)


def test_cancel_stops_at_a_chunk_boundary_and_keeps_committed_rows(staff_api, course, settings):
    settings.IMPORT_CHUNK_ROWS = 3
    job = start(csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(10)]))
    imports.import_process(import_id=job.pk, budget_seconds=0)

    response = staff_api.post(f"/api/imports/{job.pk}/cancel/")
    assert response.status_code == 202 and response.json()["cancel_url"] is None
    job = run(job.pk)

    assert (job.status, job.rows_done, Enrollment.objects.count()) == ("cancelled", 3, 3)
    assert job.finished_at is not None
    assert staff_api.post(f"/api/imports/{job.pk}/cancel/").status_code == 409


def test_progress_api_shows_rows_rate_eta_and_counts(staff_api, course, settings):
    settings.IMPORT_CHUNK_ROWS = 5
    job = start(csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(19)] + [["x", "X", "y"]]))
    imports.import_process(import_id=job.pk, budget_seconds=0)

    body = staff_api.get(f"/api/imports/{job.pk}/").json()
    assert (body["status"], body["rows_done"], body["total_rows"], body["percent"]) == ("running", 5, 20, 25)
    assert body["rate_per_second"] > 0 and body["eta_seconds"] >= 0
    assert body["counts"] == {"users_created": 5, "enrollments_created": 5, "already_enrolled": 0, "errors": 0}
    assert body["error_report_url"] is None and body["cancel_url"].endswith(f"/api/imports/{job.pk}/cancel/")

    run(job.pk)
    body = staff_api.get(f"/api/imports/{job.pk}/").json()
    assert (body["status"], body["percent"], body["eta_seconds"]) == ("completed", 100, 0)
    assert body["counts"] == {"users_created": 19, "enrollments_created": 19, "already_enrolled": 0, "errors": 1}
    assert body["error_report_url"].endswith(f"/api/imports/{job.pk}/errors.csv")
    listing = staff_api.get("/api/imports/").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == job.pk


# --- Notifications ---------------------------------------------------------------------------------


def test_notify_announces_new_enrollments_and_new_learners_to_welcome_once_in_batches(course, settings):
    settings.IMPORT_NOTIFY_BATCH_ROWS = 2
    UserFactory(email="old@example.org")
    rows = [
        ["new@example.org", "New", "python-101", ""],
        ["quiet@example.org", "Quiet", "python-101", "no"],
        ["old@example.org", "Old", "python-101", ""],
        ["new@example.org", "New", "other", ""],
    ]
    CourseFactory(slug="other")
    job = run(start(csv_bytes(rows, header=("email", "full_name", "course", "send_welcome"))).pk)
    assert Job.objects.filter(task_name="enrollments.import_notify").count() == 1
    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs)

    enrollments_imported.connect(listener)
    try:
        imports.import_notify(import_id=job.pk)
        imports.import_notify(import_id=job.pk)  # caught up: a rerun announces nothing again
    finally:
        enrollments_imported.disconnect(listener)

    assert len(heard) == 2  # rows 2-3 and 4-5
    enrollment_ids = [i for h in heard for i in h["enrollment_ids"]]
    assert sorted(enrollment_ids) == sorted(Enrollment.objects.values_list("pk", flat=True))
    assert [u for h in heard for u in h["welcome_user_ids"]] == [User.objects.get(email="new@example.org").pk]
    job.refresh_from_db()
    assert job.notify_requested_at is None and job.notified_through_row == job.resume_row_number


# --- Pages and admin -------------------------------------------------------------------------------


def test_staff_page_upload_redirects_to_the_live_progress_page(client, staff, course):
    client.force_login(staff)
    content = csv_bytes([["ann@example.org", "Ann", "python-101"]])
    response = client.post(
        "/staff/imports/new/", {"file": SimpleUploadedFile("a.csv", content), "send_welcome": "on"}, follow=True
    )
    job = ImportJob.objects.get()
    assert response.redirect_chain[-1][0] == f"/staff/imports/{job.pk}/"
    page = response.content.decode()
    assert 'role="progressbar"' in page and f"/api/imports/{job.pk}/" in page and "Cancel the import" in page


@pytest.mark.parametrize("case", ["empty", "header only", "latin-1", "missing column"])
def test_staff_page_shows_the_reason_a_file_is_refused(client, staff, course, case):
    client.force_login(staff)
    content, message = BAD_FILES[case]
    response = client.post("/staff/imports/new/", {"file": SimpleUploadedFile("a.csv", content)})
    assert response.status_code == 200 and message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_staff_page_refuses_a_file_over_the_limit_with_the_csrf_check_on(staff, course, settings):
    from django.test import Client

    settings.IMPORT_MAX_BYTES = 1000
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    token = client.get("/staff/imports/new/").cookies["csrftoken"].value
    content = csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(500)])
    response = client.post(
        "/staff/imports/new/", {"csrfmiddlewaretoken": token, "file": SimpleUploadedFile("big.csv", content)}
    )
    assert response.status_code == 200 and "the limit is 0.0 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_admin_add_page_uploads_and_the_change_page_links_progress_and_report(client, course):
    admin = User.objects.create_superuser(email="root@example.com", password="x")
    client.force_login(admin)
    assert "Upload and import" in client.get("/admin/imports/importjob/add/").content.decode()
    content = csv_bytes([["ann@example.org", "Ann", "python-101"], ["bad", "B", "python-101"]])
    response = client.post("/admin/imports/importjob/add/", {"file": SimpleUploadedFile("a.csv", content)})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/imports/{job.pk}/"
    run(job.pk)

    page = client.get(f"/admin/imports/importjob/{job.pk}/change/").content.decode()
    assert f"/staff/imports/{job.pk}/" in page and f"/api/imports/{job.pk}/errors.csv" in page
    assert "enrollments.import_process" in page  # the jobs inline
    assert client.get("/admin/imports/importjob/").status_code == 200
    refused = client.post("/admin/imports/importjob/add/", {"file": SimpleUploadedFile("a.csv", b"")})
    assert "The file is empty." in refused.content.decode()
