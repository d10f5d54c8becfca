"""The admin's lists of jobs, results, deliveries and notifications stay within bounds on large tables:
counts are PostgreSQL's estimate or capped, and labelled so; filters list their choices without reading
the table; a search is an indexed lookup."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_results.models import TaskResult

from jobs.models import Job
from tests.conftest import is_postgres
from tests.courses.factories import course_with_lessons
from tests.enrollments.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(not is_postgres(), reason="estimates come from PostgreSQL's catalogue")


@pytest.fixture
def root_client(client):
    client.force_login(get_user_model().objects.create_superuser(email="root@example.com", password="x"))
    return client


def _jobs(n: int, **fields) -> list[Job]:
    return [Job.objects.create(task_name="lms.ping", queue="default", **fields) for _ in range(n)]


@postgres_only
def test_an_unfiltered_list_of_a_large_table_shows_the_estimate_labelled_as_one(root_client):
    _jobs(3)
    with connection.cursor() as cursor:  # what ANALYZE records for a table of five million rows
        cursor.execute("UPDATE pg_class SET reltuples = 5000000 WHERE oid = 'lms_job'::regclass")

    with CaptureQueriesContext(connection) as queries:
        page = root_client.get("/admin/jobs/job/").content.decode()

    assert "about 5,000,000" in page
    assert not [q for q in queries.captured_queries if "COUNT(*)" in q["sql"] and "lms_job" in q["sql"]]


@postgres_only
def test_a_filtered_list_counts_at_most_the_cap_and_says_so(root_client, monkeypatch):
    monkeypatch.setattr("core.admin_paging.COUNT_CAP", 3)
    _jobs(5)

    page = root_client.get("/admin/jobs/job/?task_name=lms.ping").content.decode()

    assert "more than 3" in page


def test_a_small_list_shows_its_exact_count(root_client):
    _jobs(2)
    page = root_client.get("/admin/jobs/job/").content.decode()
    assert "about" not in page.split('class="paginator"')[1][:200]
    assert "2 background jobs" in page or "2 jobs" in page


@pytest.mark.parametrize(
    ("url", "choices"),
    [
        ("/admin/jobs/job/", ["enrollments.sync_progress", "email_bulk"]),  # registered tasks, configured queues
        ("/admin/django_celery_results/taskresult/", ["enrollments.sync_progress", "failure"]),
        ("/admin/notifications/webhookdelivery/", ["succeeded"]),
        ("/admin/notifications/notification/", ["certificate_issued"]),
    ],
)
def test_filters_list_their_choices_without_reading_the_table(root_client, url, choices):
    _jobs(1)
    with CaptureQueriesContext(connection) as queries:
        page = root_client.get(url).content.decode()
    assert all(choice in page for choice in choices)
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]


def test_search_finds_a_job_by_task_id_by_object_and_by_task_name(root_client):
    course, _lessons = course_with_lessons(1)
    enrollment = EnrollmentFactory(course=course)
    about = Job.objects.create(
        task_name="enrollments.sync_progress", queue="default", kwargs={"enrollment_id": enrollment.pk}
    )
    about.about = enrollment
    about.save()
    other = Job.objects.create(task_name="lms.ping", queue="default")

    def found(term: str) -> set[str]:
        response = root_client.get("/admin/jobs/job/", {"q": term})
        return {job.task_id for job in response.context["cl"].result_list}

    assert found(about.task_id) == {about.task_id}
    assert found(f"enrollment {enrollment.pk}") == {about.task_id}
    assert found(f"enrollments.enrollment:{enrollment.pk}") == {about.task_id}
    assert about.task_id in found(f"#{enrollment.pk}")
    assert found("lms.ping") == {other.task_id}
    assert found("no such thing") == set()


def test_results_are_searched_by_exact_task_id_and_worker(root_client):
    TaskResult.objects.create(task_id="3f6c1a8e-0000-4000-8000-000000000001", task_name="lms.ping", worker="w1@h")
    TaskResult.objects.create(task_id="3f6c1a8e-0000-4000-8000-000000000002", task_name="lms.ping", worker="w2@h")

    def found(term: str) -> set[str]:
        response = root_client.get("/admin/django_celery_results/taskresult/", {"q": term})
        return {result.task_id for result in response.context["cl"].result_list}

    assert found("3f6c1a8e-0000-4000-8000-000000000001") == {"3f6c1a8e-0000-4000-8000-000000000001"}
    assert found("w2@h") == {"3f6c1a8e-0000-4000-8000-000000000002"}
    assert len(found("lms.ping")) == 2


@pytest.mark.parametrize(
    "url",
    [
        "/admin/jobs/job/",
        "/admin/django_celery_results/taskresult/",
        "/admin/notifications/webhookdelivery/",
        "/admin/notifications/notification/",
    ],
)
def test_large_lists_do_not_count_the_whole_table_beside_a_filter(root_client, url):
    assert root_client.get(url).status_code == 200
    response = root_client.get(url, {"q": "x"})
    assert response.status_code == 200
    assert response.context["cl"].full_result_count is None


def test_the_state_filter_finds_jobs_by_their_results_state(root_client):
    failed, succeeded, queued = _jobs(3)
    TaskResult.objects.create(task_id=failed.task_id, status="FAILURE")
    TaskResult.objects.create(task_id=succeeded.task_id, status="SUCCESS")

    def found(state: str) -> set[int]:
        return {job.pk for job in root_client.get("/admin/jobs/job/", {"state": state}).context["cl"].result_list}

    assert found("FAILURE") == {failed.pk}
    assert found("SUCCESS") == {succeeded.pk}
    assert found("QUEUED") == {queued.pk}
    assert found("STARTED") == set()
