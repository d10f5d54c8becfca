"""Imports across the real boundaries: HTTP upload -> storage and database -> broker -> worker process
(a chain of time-boxed runs) -> database, including a worker killed in the middle of an import."""

import csv
import io
import time

import pytest
from django.contrib.auth import get_user_model

from enrollments.models import Enrollment
from imports.models import ImportedEnrollment, ImportJob, ImportRowError
from tests.conftest import WorkerProcess, purge_queues
from tests.courses.factories import CourseFactory
from tests.imports.conftest import IMPORT_PERMS
from tests.imports.test_imports import csv_bytes
from tests.jobs.factories import staff_with
from tests.utils import wait_for

pytestmark = [pytest.mark.integration]
User = get_user_model()
COURSES = ("course-a", "course-b", "course-c")


def learners_file(rows: int, *, bad: int) -> tuple[bytes, int]:
    """`rows` rows, `bad` of them refused (bad emails, unknown courses, duplicates of earlier rows far
    back); returns the file and how many enrollments it should make."""
    every = rows // bad
    lines = []
    for i in range(rows):
        if i % every == every - 1 and i // every < bad:
            kind = (i // every) % 3
            if kind == 0:
                lines.append([f"broken-{i}-at-example.org", "Bad Email", COURSES[0]])
            elif kind == 1:
                lines.append([f"ghost{i}@example.org", "No Course", "no-such-course"])
            else:  # the same learner and course as a row far earlier (another chunk)
                j = i - every + 1
                lines.append([f"learner{j}@example.org", "Again", COURSES[j % 3]])
            continue
        lines.append([f"learner{i}@example.org", f"Learner {i}", COURSES[i % 3]])
    return csv_bytes(lines), rows - bad


@pytest.fixture
def staff_api(api_client):
    api_client.force_authenticate(staff_with(*IMPORT_PERMS, email="staff@example.com"))
    return api_client


@pytest.fixture(autouse=True)
def _remove_stored_files(transactional_db):
    yield
    for job in ImportJob.objects.all():
        job.file.delete(save=False)


def upload(staff_api, content: bytes) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff_api.post(
        "/api/imports/", {"file": SimpleUploadedFile("learners.csv", content, "text/csv")}, format="multipart"
    )
    assert response.status_code == 202, response.content
    return response.json()


def finished(staff_api, url: str, timeout: float = 90) -> dict:
    def done():
        body = staff_api.get(url).json()
        return body if body["status"] in ("completed", "failed", "cancelled") else None

    return wait_for(done, timeout=timeout, interval=0.2, message=f"the import at {url} to finish")


def report_rows(staff_api, body: dict) -> list[list[str]]:
    response = staff_api.get(body["error_report_url"])
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))[1:]


def test_ten_thousand_rows_with_fifty_bad_make_9950_enrollments_a_50_row_report_and_nothing_on_reupload(
    worker, staff_api
):
    for slug in COURSES:
        CourseFactory(slug=slug)
    content, good = learners_file(10_000, bad=50)

    body = finished(staff_api, upload(staff_api, content)["url"])

    assert body["status"] == "completed" and (body["rows_done"], body["total_rows"]) == (10_000, 10_000)
    assert body["counts"] == {"users_created": 9_950, "enrollments_created": 9_950, "already_enrolled": 0, "errors": 50}
    assert Enrollment.objects.count() == good == 9_950
    errors = report_rows(staff_api, body)
    assert len(errors) == 50
    assert {row[-1].split(":")[0] for row in errors} == {"invalid email address", "unknown course", "duplicate row"}
    users = User.objects.count()

    again = finished(staff_api, upload(staff_api, content)["url"])

    assert again["status"] == "completed"
    assert again["counts"] == {"users_created": 0, "enrollments_created": 0, "already_enrolled": 9_950, "errors": 50}
    assert (Enrollment.objects.count(), User.objects.count()) == (9_950, users)


VISIBILITY_TIMEOUT = 4


@pytest.fixture
def imports_workers(celery_worker_process, transactional_db):
    """Dedicated `imports` workers that give a dead worker's message back after a few seconds."""
    celery_worker_process.stop()
    purge_queues()
    started = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(
            queues="imports", extra_env={"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    purge_queues()


def test_a_worker_killed_mid_import_resumes_and_ends_as_an_uninterrupted_run(imports_workers, staff_api, settings):
    import signal

    settings.IMPORT_CHUNK_ROWS = 250  # kept on the job: the workers process it in these steps
    for slug in COURSES:
        CourseFactory(slug=slug)
    content, good = learners_file(30_000, bad=30)
    first = imports_workers()
    url = upload(staff_api, content)["url"]
    job_id = int(url.rstrip("/").rsplit("/", 1)[1])

    running = wait_for(
        lambda: ImportJob.objects.filter(pk=job_id, status="running", rows_done__gte=1000).first(),
        timeout=60,
        interval=0.01,
        message="the import to be under way",
    )
    first.stop(signal.SIGKILL)
    at_kill = ImportJob.objects.get(pk=job_id)
    assert running.rows_done <= at_kill.rows_done < at_kill.total_rows, "the kill came after the end"
    time.sleep(VISIBILITY_TIMEOUT + 1)  # the dead worker's message becomes visible again
    imports_workers()

    body = finished(staff_api, url)

    # The same end state as an uninterrupted run of this file: every count, every row, nothing twice.
    assert body["status"] == "completed" and body["rows_done"] == body["total_rows"] == 30_000
    assert body["counts"] == {"users_created": good, "enrollments_created": good, "already_enrolled": 0, "errors": 30}
    assert Enrollment.objects.count() == good and User.objects.filter(is_staff=False).count() == good
    assert ImportedEnrollment.objects.filter(import_job_id=job_id).count() == good
    assert ImportRowError.objects.filter(import_job_id=job_id).count() == 30
    assert len(report_rows(staff_api, body)) == 30
