"""Staff operations: jobs visible before they run, failures with tracebacks, retry from the admin,
Sentry events from the worker, and admin pages with bounded queries."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_results.models import TaskResult

from jobs.enqueue import enqueue
from jobs.models import Job
from jobs.tasks import ping_task
from notifications.models import Notification
from notifications.tasks.email import email_send_task
from tests.conftest import WorkerProcess, purge_queues
from tests.jobs.factories import UserFactory
from tests.utils import wait_for


class SentryIngest:
    """A local stand-in for Sentry's ingest endpoint: the SDK's real transport posts envelopes here."""

    def __init__(self):
        self.envelopes: list[list[dict]] = []
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                ingest.envelopes.append([json.loads(line) for line in body.splitlines() if line.strip()])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.dsn = f"http://public@127.0.0.1:{self.server.server_port}/1"

    def events(self) -> list[dict]:
        return [item for envelope in self.envelopes for item in envelope if "exception" in item]


@pytest.fixture
def staff_client(client):
    staff = get_user_model().objects.create_user(email="ops@example.com", password="x", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["jobs", "django_celery_results", "accounts"])
    )
    client.force_login(staff)
    client.user = staff
    return client


@pytest.fixture
def failing_email_worker(celery_worker_process, transactional_db):
    """A worker whose email sends give up at the first provider error, reporting to a local Sentry."""
    celery_worker_process.stop()
    purge_queues()
    ingest = SentryIngest()
    worker = WorkerProcess(extra_env={"EMAIL_SEND_MAX_RETRIES": "0", "SENTRY_DSN": ingest.dsn}).start()
    worker.ingest = ingest
    yield worker
    worker.stop()
    ingest.server.shutdown()


@pytest.mark.integration
def test_failed_task_shows_in_admin_with_traceback_and_admin_retry_succeeds(failing_email_worker, staff_client):
    user = UserFactory(email="flaky+transient1@example.com")
    job = enqueue(email_send_task, kind="welcome", object_id=user.pk, about=user)

    result = wait_for(
        lambda: TaskResult.objects.filter(task_id=job.task_id, status="FAILURE").first(), message="the failure"
    )
    assert "TransientEmailError" in result.traceback
    changelist = staff_client.get("/admin/jobs/job/?state=FAILURE").content.decode()
    assert job.task_id in changelist or "notifications.send_email" in changelist
    detail = staff_client.get(f"/admin/django_celery_results/taskresult/{result.pk}/change/").content.decode()
    assert "TransientEmailError" in detail
    # Linked from its object: the learner's admin page lists the job and links its result.
    user_page = staff_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "notifications.send_email" in user_page and f"?task_id={job.task_id}" in user_page

    response = staff_client.post(
        "/admin/jobs/job/", {"action": "retry_jobs", "_selected_action": [job.pk]}, follow=True
    )
    assert "Queued 1 retry job(s)" in response.content.decode()

    retry = Job.objects.get(retry_of=job)
    wait_for(lambda: TaskResult.objects.filter(task_id=retry.task_id, status="SUCCESS").exists(), message="the retry")
    assert Notification.objects.get(recipient=user.email).status == "sent"
    entry = LogEntry.objects.get(object_id=str(job.pk))
    assert entry.user == staff_client.user and retry.task_id in entry.get_change_message()
    assert retry.triggered_by == f"retry by user:{staff_client.user.pk}"

    # Sentry got the failure once, tagged with the task, through its real transport.
    events = wait_for(lambda: failing_email_worker.ingest.events(), message="the Sentry event")
    assert len(events) == 1
    assert events[0]["exception"]["values"][-1]["type"] == "TransientEmailError"
    assert "notifications.send_email" in json.dumps(events[0])


def test_retry_needs_the_dedicated_permission(client, db):
    job = Job.objects.create(task_name="lms.ping", kwargs={}, queue="default")
    staff = get_user_model().objects.create_user(email="viewer@example.com", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(staff)
    page = client.get("/admin/jobs/job/").content.decode()
    assert "retry_jobs" not in page
    client.post("/admin/jobs/job/", {"action": "retry_jobs", "_selected_action": [job.pk]})
    assert not Job.objects.filter(retry_of=job).exists()


@pytest.mark.integration
def test_a_queued_job_is_visible_in_the_admin_before_a_worker_runs_it(celery_worker_process, transactional_db, client):
    celery_worker_process.stop()
    purge_queues()
    staff = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client.force_login(staff)

    job = enqueue(ping_task, note="waiting")

    page = client.get("/admin/jobs/job/?state=QUEUED").content.decode()
    assert "lms.ping" in page and ">queued<" in page
    assert Job.objects.get(pk=job.pk).publish_state == "pending"  # sent; the relay confirms it later
    celery_worker_process.start()
    wait_for(lambda: TaskResult.objects.filter(task_id=job.task_id, status="SUCCESS").exists(), message="the run")
    assert ">succeeded<" in client.get("/admin/jobs/job/").content.decode()


@pytest.mark.django_db
def test_operations_page_counts_jobs_by_task_and_state_and_shows_queues(staff_client):
    done = Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="published")
    TaskResult.objects.create(task_id=done.task_id, task_name="lms.ping", status="SUCCESS")
    Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="published")
    Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="dead")
    page = staff_client.get("/admin/jobs/job/operations/").content.decode()
    assert "lms.ping" in page and "default" in page and "email_bulk" in page
    assert "1 dead" in page


ADMIN_PAGES = [
    "/admin/jobs/job/",
    "/admin/django_celery_results/taskresult/",
    "/admin/enrollments/enrollment/",
    "/admin/certificates/certificate/",
    "/admin/notifications/notification/",
    "/admin/notifications/webhookdelivery/",
    "/admin/notifications/webhookendpoint/",
    "/admin/courses/course/",
    "/admin/courses/lesson/",
    "/admin/enrollments/coursestats/",
    "/admin/accounts/user/",
    "/admin/jobs/job/operations/",
    "/admin/imports/importjob/",
]


def _make_rows(n: int) -> None:
    from certificates import services as certificate_services
    from enrollments import services as enrollment_services
    from notifications.services.email import email_send
    from tests.courses.factories import LessonFactory
    from tests.enrollments.factories import EnrollmentFactory

    for _ in range(n):
        enrollment = EnrollmentFactory()
        lesson = LessonFactory(course=enrollment.course)
        enrollment_services.lesson_complete(learner=enrollment.learner, lesson_id=lesson.pk)
        enrollment_services.enrollment_sync_progress(enrollment_id=enrollment.pk)
        certificate_services.certificate_issue(enrollment_id=enrollment.pk)
        email_send(kind="welcome", object_id=enrollment.learner_id)
        enrollment_services.course_stats_recompute(course_id=enrollment.course_id)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_load_for_staff_with_queries_that_do_not_grow(client, url):
    staff = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client.force_login(staff)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _make_rows(2)
    few = queries()
    _make_rows(8)
    assert queries() <= few


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_are_forbidden_to_learners(client, url):
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_retry_failed_jobs_command_retries_each_failed_job_once():
    from io import StringIO

    from django.core.management import call_command

    failed = Job.objects.create(task_name="lms.ping", kwargs={"note": "x"}, queue="default", publish_state="published")
    TaskResult.objects.create(task_id=failed.task_id, task_name="lms.ping", status="FAILURE")
    fine = Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="published")
    TaskResult.objects.create(task_id=fine.task_id, task_name="lms.ping", status="SUCCESS")

    out = StringIO()
    call_command("retry_failed_jobs", "--dry-run", stdout=out)
    assert "1 failed job(s) match" in out.getvalue() and not Job.objects.filter(retry_of=failed).exists()

    call_command("retry_failed_jobs", "--task", "lms.ping", stdout=out)
    retry = Job.objects.get(retry_of=failed)
    assert retry.kwargs == {"note": "x"} and retry.triggered_by == "retry by command:retry_failed_jobs"
    call_command("retry_failed_jobs", stdout=out)  # already retried: not again
    assert Job.objects.filter(retry_of=failed).count() == 1


@pytest.mark.django_db
def test_recompute_progress_command_recomputes_a_course():
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from enrollments.models import Enrollment, LessonCompletion
    from tests.courses.factories import LessonFactory
    from tests.enrollments.factories import EnrollmentFactory

    enrollment = EnrollmentFactory()
    lesson = LessonFactory(course=enrollment.course)
    LessonFactory(course=enrollment.course)
    LessonCompletion.objects.create(enrollment=enrollment, lesson=lesson)
    out = StringIO()
    call_command("recompute_progress", "--course", enrollment.course.slug, stdout=out)
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent == 50
    assert "[1/1]" in out.getvalue()
    with pytest.raises(CommandError, match="No course"):
        call_command("recompute_progress", "--course", "nope")
