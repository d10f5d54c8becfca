"""Idempotency-Key on the API's POSTs: a retried request is answered from the first response, once per key
and user, through the real middleware stack, authentication and database."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django_celery_results.models import TaskResult
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from core.idempotency import (
    idempotency_record_claim,
    idempotency_record_finish,
    idempotency_records_prune,
    postprocess_schema_idempotency_key,
    request_fingerprint,
)
from core.models import IdempotencyRecord
from courses.models import Course
from enrollments.models import Enrollment, LessonCompletion
from jobs.models import Job
from tests.conftest import is_postgres
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory
from tests.utils import error_detail, field_errors, wait_for

pytestmark = pytest.mark.django_db


class NeedsACourseView(APIView):
    """Answers 503 while the catalogue is empty, like a view whose backing service is down."""

    def post(self, request):
        if not Course.objects.exists():
            return Response({"detail": "The catalogue is unavailable."}, status=503)
        return Response({"courses": Course.objects.count()}, status=201)


class FirstCourseView(APIView):
    """Raises (DoesNotExist, a 500) while there is no course."""

    def post(self, request):
        return Response({"slug": Course.objects.get().slug}, status=201)


# The project's URLs plus two views that fail for real, for the tests marked `urls(__name__)`.
urlpatterns = [
    path("api/test/needs-a-course/", NeedsACourseView.as_view()),
    path("api/test/first-course/", FirstCourseView.as_view()),
]


def token_client(user=None) -> APIClient:
    """A client authenticated the way API clients are: a real token in the Authorization header."""
    user = user or UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    client.user = user
    return client


@pytest.fixture
def learner_client(db):
    return token_client()


def enroll(client, slug: str, key: str | None = "key-1", **kwargs):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/api/courses/{slug}/enroll/", headers=headers, **kwargs)


def sync_ran_once(user) -> bool:
    """The worker ran the user's one progress sync, and nothing of the test is left running (wait on it
    before the test ends: the database is flushed after a transactional test)."""
    ids = list(Enrollment.objects.filter(learner=user).values_list("pk", flat=True))
    jobs = Job.objects.filter(task_name="enrollments.sync_progress", kwargs__enrollment_id__in=ids)
    ran = TaskResult.objects.filter(task_id__in=jobs.values("task_id"), status="SUCCESS")
    return jobs.count() == 1 and ran.count() == 1


def sync_jobs(user=None) -> int:
    """Progress-sync jobs queued for `user`'s enrollments (others may linger from worker tests)."""
    jobs = Job.objects.filter(task_name="enrollments.sync_progress")
    if user is not None:
        ids = list(Enrollment.objects.filter(learner=user).values_list("pk", flat=True))
        jobs = jobs.filter(kwargs__enrollment_id__in=ids)
    return jobs.count()


def test_enrolling_twice_with_one_key_replays_the_201_and_enrolls_once(learner_client):
    CourseFactory(slug="python")
    first = enroll(learner_client, "python")
    second = enroll(learner_client, "python")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Enrollment.objects.filter(learner=learner_client.user).count() == 1
    assert sync_jobs(learner_client.user) == 1


def test_completing_a_lesson_twice_with_one_key_replays_the_202(learner_client):
    lesson = LessonFactory()
    EnrollmentFactory(learner=learner_client.user, course=lesson.course)
    headers = {"Idempotency-Key": "complete-1"}
    first = learner_client.post(f"/api/lessons/{lesson.pk}/complete/", headers=headers)
    second = learner_client.post(f"/api/lessons/{lesson.pk}/complete/", headers=headers)

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["progress_sync"] == "queued" and second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert LessonCompletion.objects.filter(lesson=lesson).count() == 1
    assert sync_jobs(learner_client.user) == 1


def test_a_session_authenticated_client_gets_the_replay_too(db, api_client):
    user = UserFactory()
    api_client.force_login(user)
    CourseFactory(slug="python")
    first, second = enroll(api_client, "python"), enroll(api_client, "python")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().user == user


def test_a_session_post_failing_the_csrf_check_stores_nothing_so_the_corrected_retry_runs(db):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    CourseFactory(slug="python")
    assert enroll(client, "python").status_code == 403
    assert not IdempotencyRecord.objects.exists()

    client.get("/accounts/login/")  # sets the csrftoken cookie
    retry = enroll(client, "python", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert retry.status_code == 201 and not retry.has_header("Idempotent-Replayed")


def test_the_same_key_on_another_path_is_422(learner_client):
    CourseFactory(slug="python")
    CourseFactory(slug="django")
    assert enroll(learner_client, "python").status_code == 201
    response = enroll(learner_client, "django")
    assert response.status_code == 422
    assert error_detail(response) == "This Idempotency-Key was used with a different request."
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert not Enrollment.objects.filter(course__slug="django").exists()


def test_the_same_key_with_another_body_is_422(learner_client):
    CourseFactory(slug="python")
    assert enroll(learner_client, "python", data={"note": "first"}, format="json").status_code == 201
    response = enroll(learner_client, "python", data={"note": "second"}, format="json")
    assert response.status_code == 422
    assert error_detail(response) == "This Idempotency-Key was used with a different request."


def test_different_users_use_the_same_key_independently(db):
    CourseFactory(slug="python")
    ada, bob = token_client(), token_client()
    first, second = enroll(ada, "python", key="shared"), enroll(bob, "python", key="shared")
    assert (first.status_code, second.status_code) == (201, 201)
    assert not second.has_header("Idempotent-Replayed")
    assert first.json()["id"] != second.json()["id"]
    assert Enrollment.objects.filter(course__slug="python").count() == 2


def test_anonymous_posts_ignore_the_header(api_client):
    payload = {"email": "new@example.com", "password": "a-long-passphrase-42"}
    headers = {"Idempotency-Key": "signup"}
    first = api_client.post("/api/auth/register/", payload, format="json", headers=headers)
    second = api_client.post("/api/auth/register/", payload, format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 400)  # the second really ran: email taken
    assert not second.has_header("Idempotent-Replayed")
    token = api_client.post("/api/auth/token/", payload, format="json", headers={"Idempotency-Key": "é" * 300})
    assert token.status_code == 200  # not even validated: the header means nothing here
    assert not IdempotencyRecord.objects.exists()


def test_a_bad_token_with_the_header_is_401_and_nothing_is_stored(api_client):
    CourseFactory(slug="python")
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert enroll(api_client, "python").status_code == 401
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve", "new\nline"])
def test_an_invalid_key_is_400_and_the_view_does_not_run(learner_client, key):
    CourseFactory(slug="python")
    response = enroll(learner_client, "python", key=key)
    assert response.status_code == 400
    assert field_errors(response) == {"Idempotency-Key": ["Must be 1 to 255 printable ASCII characters."]}
    assert not Enrollment.objects.exists()


def test_a_key_of_255_printable_characters_is_accepted(learner_client):
    CourseFactory(slug="python")
    assert enroll(learner_client, "python", key="a b~" + "x" * 251).status_code == 201


def test_an_expired_key_is_processed_anew(learner_client):
    CourseFactory(slug="python")
    assert enroll(learner_client, "python").status_code == 201
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = enroll(learner_client, "python")
    assert again.status_code == 200  # the view ran: the enrollment already existed
    assert not again.has_header("Idempotent-Replayed")
    assert IdempotencyRecord.objects.get().response_status == 200


def test_a_request_without_the_header_stores_nothing(learner_client):
    CourseFactory(slug="python")
    assert enroll(learner_client, "python", key=None).status_code == 201
    assert enroll(learner_client, "python", key=None).status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_a_4xx_is_stored_and_replayed(learner_client):
    response = enroll(learner_client, "no-such-course")
    CourseFactory(slug="no-such-course")
    replay = enroll(learner_client, "no-such-course")
    assert (response.status_code, replay.status_code) == (404, 404)
    assert replay["Idempotent-Replayed"] == "true" and not Enrollment.objects.exists()


@pytest.mark.urls(__name__)
def test_a_5xx_is_not_stored_so_the_retry_runs_the_view(learner_client):
    headers = {"Idempotency-Key": "retry-me"}
    assert learner_client.post("/api/test/needs-a-course/", headers=headers).status_code == 503
    assert not IdempotencyRecord.objects.exists()

    CourseFactory()
    retry = learner_client.post("/api/test/needs-a-course/", headers=headers)
    assert retry.status_code == 201 and not retry.has_header("Idempotent-Replayed")
    assert learner_client.post("/api/test/needs-a-course/", headers=headers)["Idempotent-Replayed"] == "true"


@pytest.mark.urls(__name__)
def test_a_view_that_raises_stores_nothing_so_the_retry_runs_the_view(learner_client):
    learner_client.raise_request_exception = False
    headers = {"Idempotency-Key": "retry-me"}
    assert learner_client.post("/api/test/first-course/", headers=headers).status_code == 500
    assert not IdempotencyRecord.objects.exists()

    CourseFactory(slug="python")
    retry = learner_client.post("/api/test/first-course/", headers=headers)
    assert retry.status_code == 201 and retry.json() == {"slug": "python"}


def _claim(user, key="unit"):
    fingerprint = request_fingerprint(method="POST", path="/api/x/", body=b"{}")
    return idempotency_record_claim(user=user, key=key, method="POST", path="/api/x/", fingerprint=fingerprint)


@pytest.mark.parametrize(("status", "stored"), [(201, True), (400, True), (404, True), (403, False), (502, False)])
def test_finishing_stores_the_response_unless_it_is_a_server_error_or_a_refusal(db, status, stored):
    record, claimed = _claim(UserFactory())
    assert claimed
    response = HttpResponse(b'{"ok":true}', status=status, content_type="application/json", headers={"X-Other": "1"})
    assert idempotency_record_finish(record=record, response=response) is stored
    if stored:
        record.refresh_from_db()
        assert (record.response_status, bytes(record.response_body)) == (status, b'{"ok":true}')
        assert record.response_headers == {"Content-Type": "application/json"}
    else:
        assert not IdempotencyRecord.objects.exists()


def test_a_claim_abandoned_by_a_dead_request_is_taken_over(db):
    user = UserFactory()
    first, _ = _claim(user)
    IdempotencyRecord.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    second, claimed = _claim(user)
    assert claimed and second.pk != first.pk


def test_prune_deletes_only_expired_records(db):
    user = UserFactory()
    expired, _ = _claim(user, key="old")
    _claim(user, key="new")
    IdempotencyRecord.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert idempotency_records_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency_records_prune(now=timezone.now() + timedelta(days=2)) == 1


def test_the_schema_hook_documents_the_header_on_authenticated_posts_only():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = postprocess_schema_idempotency_key(schema, None, None, True)["paths"]

    def headers(path):
        return [p["name"] for p in paths[path]["post"].get("parameters", []) if p["in"] == "header"]

    assert "Idempotency-Key" in headers("/api/courses/{slug}/enroll/")
    assert {"409", "422"} <= set(paths["/api/lessons/{id}/complete/"]["post"]["responses"])
    assert "Idempotency-Key" not in headers("/api/auth/register/")


@pytest.mark.postgres
def test_a_concurrent_request_with_the_same_key_gets_409_then_the_replay(worker):
    if not is_postgres():
        pytest.skip("needs PostgreSQL: SQLite serialises the two writers, so the requests cannot overlap")
    course = CourseFactory(slug="python")
    user = UserFactory()
    token_client(user)  # the token row, committed before the threads read it
    responses: dict[str, object] = {}

    def post(name: str) -> None:
        try:
            responses[name] = enroll(token_client(user), "python", key="race")
        finally:
            connection.close()

    # Holding the course row makes the first request's enrollment insert wait (on its foreign key), so it
    # is still in progress, its key claimed, when the second request arrives.
    with transaction.atomic():
        Course.objects.select_for_update().get(pk=course.pk)
        first = threading.Thread(target=post, args=("first",))
        first.start()
        wait_for(lambda: IdempotencyRecord.objects.filter(key="race").exists(), message="the first claim")
        second = threading.Thread(target=post, args=("second",))
        second.start()
        second.join(timeout=20)
    first.join(timeout=20)

    assert responses["first"].status_code == 201
    assert responses["second"].status_code == 409 and responses["second"].has_header("Retry-After")
    replay = enroll(token_client(user), "python", key="race")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.content == responses["first"].content
    assert Enrollment.objects.filter(learner=user).count() == 1 and sync_jobs(user) == 1
    # The job the first request published runs on the worker, once; the test waits for it, so no task is
    # still writing when the database is flushed after the test.
    wait_for(lambda: sync_ran_once(user), message="the one progress sync")


@pytest.mark.postgres
def test_simultaneous_requests_with_the_same_key_enroll_once(worker):
    if not is_postgres():
        pytest.skip("needs PostgreSQL: SQLite serialises the two writers, so the requests cannot overlap")
    CourseFactory(slug="python")
    user = UserFactory()
    token_client(user)
    barrier = threading.Barrier(2)
    responses = []

    def post() -> None:
        try:
            client = token_client(user)
            barrier.wait(timeout=5)
            responses.append(enroll(client, "python", key="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    outcomes = sorted((r.status_code, r.get("Idempotent-Replayed")) for r in responses)
    assert outcomes in ([(201, None), (201, "true")], [(201, None), (409, None)])
    assert Enrollment.objects.filter(learner=user).count() == 1 and sync_jobs(user) == 1
    wait_for(lambda: sync_ran_once(user), message="the one progress sync")
