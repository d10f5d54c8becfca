"""Reports and operations across the real boundaries: API -> database and broker -> a worker process ->
storage -> the download; two requests at once; the import and recompute APIs answering with operations."""

import csv
import io
import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from enrollments.models import Enrollment
from jobs.models import Operation
from reports.models import Report
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.imports.conftest import IMPORT_PERMS
from tests.imports.test_imports import csv_bytes
from tests.jobs.factories import staff_with
from tests.utils import wait_for

pytestmark = [pytest.mark.integration]


@pytest.fixture(autouse=True)
def _remove_stored_files(transactional_db):
    yield
    for report in Report.objects.all():
        report.file.delete(save=False)


@pytest.fixture
def staff():
    perms = ("reports.view_report", "reports.add_report", "enrollments.recompute_coursestats", *IMPORT_PERMS)
    return staff_with(*perms, email="reporter@example.com")


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def settled(client, location: str, timeout: float = 60) -> dict:
    def done():
        body = client.get(location).json()
        return body if body["state"] in ("completed", "failed", "cancelled") else None

    return wait_for(done, timeout=timeout, interval=0.2, message=f"the operation at {location} to finish")


def course_with_learners(count: int):
    course = CourseFactory(slug="python-101")
    lessons = [LessonFactory(course=course, is_published=True, position=i) for i in range(3)]
    for i in range(count):
        enrollment = EnrollmentFactory(course=course, learner__email=f"l{i}@example.org")
        for lesson in lessons[: i % 4]:
            LessonCompletionFactory(enrollment=enrollment, lesson=lesson)
    return course


def test_a_report_launched_from_the_api_is_polled_to_completed_and_its_csv_matches_the_database(worker, staff):
    course = course_with_learners(30)
    client = client_of(staff)

    response = client.post("/api/reports/", {"kind": "course_progress", "course": "python-101"}, format="json")
    assert response.status_code == 202
    operation = settled(client, response["Location"])

    assert (operation["state"], operation["completion"]) == ("completed", 100)
    download = client.get(operation["result_url"])
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    expected = {
        e.learner.email: (e.status, str(e.progress_percent), str(e.completions.count()))
        for e in Enrollment.objects.filter(course=course).select_related("learner")
    }
    found = {row["learner_email"]: (row["status"], row["progress_percent"], row["lessons_completed"]) for row in rows}
    assert found == expected and {row["lessons_total"] for row in rows} == {"3"}


@pytest.mark.postgres
def test_two_requests_at_once_make_one_report(worker, staff):
    course_with_learners(3)
    barrier, answers = threading.Barrier(2), []

    def request():
        try:
            barrier.wait()
            client = client_of(staff)
            body = {"kind": "course_progress", "course": "python-101"}
            answers.append(client.post("/api/reports/", body, format="json"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in answers) == [200, 202]
    assert len({r.json()["id"] for r in answers}) == 1 and Report.objects.count() == 1
    assert settled(client_of(staff), answers[0]["Location"])["state"] == "completed"


def test_an_import_answers_with_an_operation_that_follows_it_and_its_old_url_still_works(worker, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    CourseFactory(slug="python-101")
    client = client_of(staff)
    content = csv_bytes([[f"u{i}@example.org", "U", "python-101"] for i in range(20)])

    response = client.post("/api/imports/", {"file": SimpleUploadedFile("a.csv", content)}, format="multipart")

    assert response.status_code == 202 and "/api/operations/" in response["Location"]
    operation = settled(client, response["Location"])
    assert (operation["kind"], operation["state"], operation["completion"]) == ("import", "completed", 100)
    assert operation["result_url"] == response.json()["url"]
    assert client.get(response.json()["url"]).json()["status"] == "completed"


def test_the_course_recompute_api_answers_with_an_operation(worker, staff):
    course = course_with_learners(5)
    Enrollment.objects.filter(course=course).update(progress_percent=0)
    client = client_of(staff)

    response = client.post("/api/courses/python-101/recompute/")

    assert response.status_code == 202
    operation = settled(client, response["Location"])
    assert (operation["kind"], operation["state"]) == ("course.recompute", "completed")
    assert sorted(Enrollment.objects.values_list("progress_percent", flat=True)) == [0, 0, 33, 66, 100]
    assert Operation.objects.get(pk=operation["id"]).message == "5 enrollments recomputed."
