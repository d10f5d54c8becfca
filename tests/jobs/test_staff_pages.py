"""Staff pages say what is true: a failed job can be retried from its page, read-only pages have no Save,
an import with failed rows is not a plain "Completed", the admin carries the site's name, the certificate
PDF link works with any storage, and a course's analytics are one click away and never empty."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_celery_results.models import TaskResult

from certificates import services as certificate_services
from enrollments.models import CourseStats
from imports.models import ImportJob
from jobs.models import Job
from tests.certificates.conftest import completed_enrollment  # noqa: F401 - fixture
from tests.courses.factories import CourseFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.imports.test_imports import csv_bytes, run, start
from tests.jobs.factories import staff_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_job(db):
    job = Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="published")
    TaskResult.objects.create(task_id=job.task_id, task_name="lms.ping", status="FAILURE")
    return job


def test_failed_job_page_has_a_retry_button_and_no_save(client, failed_job):
    client.force_login(staff_with("jobs.view_job", "jobs.retry_job", email="ops@example.com"))
    page = client.get(f"/admin/jobs/job/{failed_job.pk}/change/").content.decode()
    assert "Retry this job" in page and f"/admin/jobs/job/{failed_job.pk}/retry/" in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page

    response = client.post(f"/admin/jobs/job/{failed_job.pk}/retry/")

    retry = Job.objects.get(retry_of=failed_job)
    assert response.status_code == 302 and response["Location"] == f"/admin/jobs/job/{retry.pk}/change/"
    assert retry.task_name == "lms.ping" and retry.triggered_by.startswith("retry by user:")
    entry = LogEntry.objects.get(object_id=str(failed_job.pk))
    assert entry.get_change_message() == f"Retried as job {retry.task_id}"


def test_retry_button_needs_retry_permission_and_a_failed_job(client, failed_job):
    client.force_login(staff_with("jobs.view_job", email="viewer@example.com"))
    assert "Retry this job" not in client.get(f"/admin/jobs/job/{failed_job.pk}/change/").content.decode()
    assert client.post(f"/admin/jobs/job/{failed_job.pk}/retry/").status_code == 403
    assert not Job.objects.filter(retry_of=failed_job).exists()

    client.force_login(staff_with("jobs.view_job", "jobs.retry_job", email="ops@example.com"))
    TaskResult.objects.filter(task_id=failed_job.task_id).update(status="SUCCESS")
    assert "Retry this job" not in client.get(f"/admin/jobs/job/{failed_job.pk}/change/").content.decode()
    client.post(f"/admin/jobs/job/{failed_job.pk}/retry/")
    assert not Job.objects.filter(retry_of=failed_job).exists()


def test_import_with_failed_rows_says_completed_with_errors_in_a_warning_colour(client, db):
    CourseFactory(slug="python-101")
    rows = [["ann@example.org", "Ann", "python-101"]] + [[f"bad{i}", "B", "python-101"] for i in range(4)]
    job = run(start(csv_bytes(rows)).pk)
    assert (job.status, job.errors) == (ImportJob.Status.COMPLETED, 4)
    client.force_login(staff_with("imports.view_importjob", "imports.add_importjob", email="imports@example.com"))

    page = client.get(f"/staff/imports/{job.pk}/").content.decode()
    assert 'class="status warning">Completed with 4 errors</strong>' in page
    listing = client.get("/admin/imports/importjob/").content.decode()
    assert "Completed with 4 errors" in listing and "import-status warning" in listing
    assert "Completed with" in client.get("/staff/imports/new/").content.decode()


def test_admin_header_and_title_show_the_site_name(client, settings):
    settings.SITE_NAME = "Acme Academy"
    client.force_login(get_user_model().objects.create_superuser(email="root@example.com", password="x"))
    page = client.get("/admin/").content.decode()
    assert "Acme Academy staff</a>" in page and "| Acme Academy staff</title>" in page
    assert "Django administration" not in page and "Django site admin" not in page


def test_certificate_admin_links_the_pdf_through_the_staff_download_view(client, completed_enrollment):  # noqa: F811
    certificate = certificate_services.certificate_issue(enrollment_id=completed_enrollment.pk)
    client.force_login(staff_with("certificates.view_certificate", email="registrar@example.com"))
    page = client.get(f"/admin/certificates/certificate/{certificate.pk}/change/").content.decode()
    assert f"/staff/certificates/{certificate.pk}/pdf/" in page and "/media/" not in page

    response = client.get(f"/staff/certificates/{certificate.pk}/pdf/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    # Staff keep access to a revoked certificate's file (the learner's link answers 410).
    certificate_services.certificate_revoke(certificate=certificate, reason="Test")
    assert client.get(f"/staff/certificates/{certificate.pk}/pdf/").status_code == 200


def test_certificate_admin_page_has_no_save_buttons(client, completed_enrollment):  # noqa: F811
    certificate = certificate_services.certificate_issue(enrollment_id=completed_enrollment.pk)
    client.force_login(get_user_model().objects.create_superuser(email="root@example.com", password="x"))
    page = client.get(f"/admin/certificates/certificate/{certificate.pk}/change/").content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page


def test_course_admin_links_to_analytics_which_show_current_figures(client, db):
    course = CourseFactory(slug="python-101", title="Python 101")
    EnrollmentFactory(course=course)
    EnrollmentFactory(course=course, status="completed", progress_percent=100, completed_at=timezone.now())
    assert not CourseStats.objects.exists()
    client.force_login(staff_with("courses.view_course", "enrollments.view_coursestats", email="analyst@example.com"))
    assert "/staff/courses/python-101/analytics/" in client.get("/admin/courses/course/").content.decode()
    change = client.get(f"/admin/courses/course/{course.pk}/change/").content.decode()
    assert "/staff/courses/python-101/analytics/" in change

    page = client.get("/staff/courses/python-101/analytics/").content.decode()

    assert "No enrollments yet" not in page
    assert "Enrolled <strong>2</strong>" in page and "completed <strong>1</strong>" in page
    EnrollmentFactory(course=course)  # no recompute: the page counts what is there now
    assert "Enrolled <strong>3</strong>" in client.get("/staff/courses/python-101/analytics/").content.decode()
    assert not CourseStats.objects.exists()  # a GET writes nothing
