"""Staff reports through their services and the API, the task run in-process (the worker path is in
test_reports_integration.py): rows against the database, formula cells, XLSX, one at a time, cancel,
permissions, download, expiry and pruning, the email to whoever asked."""

import csv
import functools
import io
import os
import zipfile
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from jobs.models import Job, Operation
from jobs.operations import ProgressReporter, operation_cancel
from notifications.services.email import email_send
from reports import services
from reports.models import Report
from tests.certificates.factories import CertificateFactory
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.jobs.factories import UserFactory, staff_with

pytestmark = pytest.mark.django_db
REPORT_PERMS = ("reports.view_report", "reports.add_report")


@pytest.fixture(autouse=True)
def _remove_stored_files():
    yield
    for report in Report.objects.all():
        report.file.delete(save=False)


@pytest.fixture
def staff():
    return staff_with(*REPORT_PERMS, email="reporter@example.com")


@pytest.fixture
def staff_api(api_client, staff):
    api_client.force_authenticate(staff)
    return api_client


@pytest.fixture
def course():
    course = CourseFactory(slug="python-101", title="Python 101")
    lessons = [LessonFactory(course=course, is_published=True, position=i) for i in range(4)]
    LessonFactory(course=course, is_published=False, position=9)  # counts for nothing
    ann = EnrollmentFactory(course=course, learner=UserFactory(email="ann@example.org", full_name="=HYPERLINK(1)"))
    for lesson in lessons[:3]:
        LessonCompletionFactory(enrollment=ann, lesson=lesson)
    EnrollmentFactory(course=course, learner=UserFactory(email="bob@example.org", full_name="+Bob"), status="active")
    CertificateFactory(enrollment__course=course, enrollment__learner__email="cy@example.org", status="issued",
                       issued_at=timezone.now(), pdf_sha256="0" * 64, learner_name="@Cy")  # fmt: skip
    return course


def generate(report: Report) -> Report:
    return services.report_generate(report_id=report.pk)


def csv_rows(report: Report) -> list[list[str]]:
    with report.file.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))


def test_the_course_progress_report_has_a_row_per_enrollment_matching_the_database(course, staff):
    report, created = services.report_request(kind="course_progress", course=course, requested_by=staff)
    assert created and report.operation.state == "queued"
    assert Job.objects.filter(task_name="reports.generate_report", kwargs={"report_id": report.pk}).count() == 1

    report = generate(report)

    assert report.operation.state == "completed" and report.operation.completion == 100
    assert report.operation.result_url == f"/api/reports/{report.pk}/download/"
    rows = csv_rows(report)
    assert rows[0][:7] == ["learner_name", "learner_email", "enrolled_at", "status", "lessons_completed",
                           "lessons_total", "progress_percent"]  # fmt: skip
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {"ann@example.org", "bob@example.org", "cy@example.org"} and report.rows == 3
    assert by_email["ann@example.org"][4:6] == ["3", "4"]  # unpublished lessons count for nothing
    assert by_email["cy@example.org"][8:] == [course_certificate_code(course, "cy@example.org"), "issued"]


def course_certificate_code(course, email: str) -> str:
    from certificates.models import Certificate

    return Certificate.objects.get(enrollment__course=course, enrollment__learner__email=email).code


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised(course, staff):
    report = generate(services.report_request(kind="course_progress", course=course, requested_by=staff)[0])

    names = {row[0] for row in csv_rows(report)[1:]}
    assert {"'=HYPERLINK(1)", "'+Bob"} <= names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_lesson_completion_has_a_column_per_published_lesson_with_the_completion_time(course, staff):
    report = generate(services.report_request(kind="lesson_completion", course=course, requested_by=staff)[0])

    rows = csv_rows(report)
    assert len(rows[0]) == 2 + 4
    ann = next(row for row in rows if row[1] == "ann@example.org")
    assert [bool(cell) for cell in ann[2:]] == [True, True, True, False]


def test_certificates_issued_in_a_period_of_all_courses(course, staff):
    today = timezone.localdate()
    report = generate(
        services.report_request(kind="certificates_issued", requested_by=staff, period_start=today, period_end=today)[0]
    )
    rows = csv_rows(report)
    assert [row[2] for row in rows[1:]] == ["cy@example.org"] and rows[1][1] == "'@Cy"

    earlier = generate(
        services.report_request(
            kind="certificates_issued", requested_by=staff, period_start=date(2020, 1, 1), period_end=date(2020, 1, 2)
        )[0]
    )
    assert csv_rows(earlier)[1:] == []


def test_xlsx_is_a_workbook_whose_text_cells_are_text_never_formulas(course, staff):
    report = generate(services.report_request(kind="course_progress", course=course, requested_by=staff, fmt="xlsx")[0])
    with report.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in book.namelist() else sheet
    assert "<f>" not in sheet  # no formula anywhere
    assert "=HYPERLINK(1)" in strings and "ann@example.org" in strings
    assert report.file_name.endswith(".xlsx")


def test_a_second_request_while_one_runs_returns_the_running_one(course, staff):
    first, created = services.report_request(kind="course_progress", course=course, requested_by=staff)
    second, again = services.report_request(kind="course_progress", course=course, requested_by=staff, fmt="xlsx")

    assert (created, again, second.pk) == (True, False, first.pk)
    assert Report.objects.count() == 1 and Operation.objects.filter(kind="report").count() == 1
    generate(first)
    third, created = services.report_request(kind="course_progress", course=course, requested_by=staff)
    assert created and third.pk != first.pk  # one at a time, not once ever


def test_cancelled_midway_it_ends_cancelled_and_stores_nothing(course, staff, monkeypatch):
    report, _ = services.report_request(kind="course_progress", course=course, requested_by=staff)
    monkeypatch.setattr(services, "ProgressReporter", functools.partial(ProgressReporter, min_interval=0))
    original = services.selectors.course_progress

    def cancelled_after_the_first_row(**kwargs):
        table = original(**kwargs)
        rows = iter(table.rows)

        def first_then_cancel():
            yield next(rows)
            operation_cancel(operation=Operation.objects.get(pk=report.operation_id))
            yield from rows

        table.rows = first_then_cancel()
        return table

    monkeypatch.setattr(services.selectors, "course_progress", cancelled_after_the_first_row)
    partial = []
    mkstemp = services.tempfile.mkstemp
    monkeypatch.setattr(services.tempfile, "mkstemp", lambda **kw: partial.append(mkstemp(**kw)) or partial[-1])
    report = generate(report)

    assert report.operation.state == "cancelled" and not report.file and report.rows == 0
    assert len(partial) == 1 and not os.path.exists(partial[0][1])  # the partial file is removed


def test_the_requester_gets_an_email_with_the_permission_checked_link(course, staff):
    report = generate(services.report_request(kind="course_progress", course=course, requested_by=staff)[0])
    job = Job.objects.get(task_name="notifications.send_email", kwargs__kind="report_ready")

    email_send(kind=job.kwargs["kind"], object_id=job.kwargs["object_id"])

    (message,) = mail.outbox
    assert message.to == ["reporter@example.com"]
    assert f"/staff/reports/{report.pk}/download/" in message.body


# --- The API ---------------------------------------------------------------------------------------


def test_post_answers_202_with_the_operation_as_location_and_the_same_report_twice(staff_api, course):
    first = staff_api.post("/api/reports/", {"kind": "course_progress", "course": "python-101"}, format="json")
    second = staff_api.post("/api/reports/", {"kind": "course_progress", "course": "python-101"}, format="json")

    assert first.status_code == 202 and second.status_code == 200
    operation_id = first.json()["operation"]["id"]
    assert first["Location"].endswith(f"/api/operations/{operation_id}/") and second.json()["id"] == first.json()["id"]
    polled = staff_api.get(first["Location"]).json()
    assert (polled["kind"], polled["state"], polled["completion"], polled["started_by"]) == (
        "report", "queued", 0, "reporter@example.com"
    )  # fmt: skip


def test_bad_input_is_a_400_naming_the_field(staff_api, course):
    missing = staff_api.post("/api/reports/", {"kind": "course_progress"}, format="json")
    unknown = staff_api.post("/api/reports/", {"kind": "grades", "course": "python-101"}, format="json")
    backwards = staff_api.post(
        "/api/reports/",
        {"kind": "certificates_issued", "period_start": "2026-02-01", "period_end": "2026-01-01"},
        format="json",
    )
    assert [r.status_code for r in (missing, unknown, backwards)] == [400, 400, 400]
    fields = [{e["attr"] for e in r.json()["errors"]} for r in (missing, unknown, backwards)]
    assert fields == [{"course"}, {"kind"}, {"period_end"}]


def test_download_is_permission_checked_and_expires(staff_api, api_client, course, staff):
    report = generate(services.report_request(kind="course_progress", course=course, requested_by=staff)[0])
    url = f"/api/reports/{report.pk}/download/"

    response = staff_api.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert b"ann@example.org" in b"".join(response.streaming_content)
    assert (
        "attachment" in response["Content-Disposition"]
        and "course-progress-python-101" in response["Content-Disposition"]
    )

    Report.objects.filter(pk=report.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert staff_api.get(url).status_code == 410
    assert services.report_prune() == 1
    assert staff_api.get(url).status_code == 404 and not Report.objects.exists()
    assert Operation.objects.get(pk=report.operation_id).result_url == ""


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/",
        "/api/reports/{id}/",
        "/api/reports/{id}/download/",
        "/api/operations/{op}/",
        "/api/operations/",
    ],
)
def test_a_learner_gets_404_and_staff_without_the_permission_403(api_client, course, staff, path):
    report = generate(services.report_request(kind="course_progress", course=course, requested_by=staff)[0])
    path = path.format(id=report.pk, op=report.operation_id)

    api_client.force_authenticate(UserFactory(email="learner@example.org"))
    assert api_client.get(path).status_code == 404
    api_client.force_authenticate(staff_with("courses.view_course", email="nobody@example.com"))
    assert api_client.get(path).status_code == 403


def test_staff_who_may_read_reports_may_not_launch_them(api_client, course):
    api_client.force_authenticate(staff_with("reports.view_report", email="reader@example.com"))
    response = api_client.post("/api/reports/", {"kind": "course_progress", "course": "python-101"}, format="json")
    assert response.status_code == 403 and not Report.objects.exists()


def test_cancel_through_the_operations_api(staff_api, course, staff):
    report, _ = services.report_request(kind="course_progress", course=course, requested_by=staff)

    response = staff_api.post(f"/api/operations/{report.operation_id}/cancel/")
    again = staff_api.post(f"/api/operations/{report.operation_id}/cancel/")

    assert (response.status_code, response.json()["state"], again.status_code) == (202, "cancelled", 409)
    assert generate(report).file.name in ("", None)  # the task finds it cancelled and writes nothing
