"""The learner API: status codes, JSON field errors, and privacy (404 for others' data)."""

import pytest

from enrollments.models import Enrollment, LessonCompletion
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory
from tests.utils import field_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def test_register_returns_201_and_a_token_can_be_obtained(api_client):
    response = api_client.post(
        "/api/auth/register/",
        {"email": "New@Example.com", "password": "a-long-passphrase-42", "full_name": "Zoë"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["email"] == "new@example.com"
    token = api_client.post(
        "/api/auth/token/", {"email": "new@example.com", "password": "a-long-passphrase-42"}, format="json"
    )
    assert token.status_code == 200 and len(token.json()["token"]) == 40


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": "a-long-passphrase-42"}, "email"),
        ({"email": "a@example.com", "password": "123"}, "password"),
        ({"email": "a@example.com"}, "password"),
    ],
)
def test_register_rejects_bad_input_with_field_messages(api_client, payload, field):
    response = api_client.post("/api/auth/register/", payload, format="json")
    assert response.status_code == 400
    assert field in field_errors(response)


def test_register_with_a_taken_email_is_400_not_500(api_client):
    UserFactory(email="taken@example.com")
    response = api_client.post(
        "/api/auth/register/", {"email": "TAKEN@example.com", "password": "a-long-passphrase-42"}, format="json"
    )
    assert response.status_code == 400
    assert field_errors(response) == {"email": ["An account with this email already exists."]}


def test_token_with_wrong_password_is_400(api_client):
    UserFactory(email="someone@example.com")
    response = api_client.post("/api/auth/token/", {"email": "someone@example.com", "password": "nope"}, format="json")
    assert response.status_code == 400 and "non_field_errors" in field_errors(response)


def test_enroll_is_201_then_200_with_the_same_enrollment(learner_client):
    CourseFactory(slug="python")
    first = learner_client.post("/api/courses/python/enroll/")
    second = learner_client.post("/api/courses/python/enroll/")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status"] == "active" and first.json()["progress_percent"] == 0


def test_enroll_in_unpublished_or_unknown_course_is_404(learner_client):
    CourseFactory(slug="draft", is_published=False)
    assert learner_client.post("/api/courses/draft/enroll/").status_code == 404
    assert learner_client.post("/api/courses/nope/enroll/").status_code == 404


def test_anonymous_clients_must_authenticate(api_client):
    CourseFactory(slug="python")
    assert api_client.post("/api/courses/python/enroll/").status_code == 401
    assert api_client.get("/api/enrollments/").status_code == 401


def test_complete_is_202_then_200(learner_client):
    lesson = LessonFactory()
    EnrollmentFactory(learner=learner_client.user, course=lesson.course)
    first = learner_client.post(f"/api/lessons/{lesson.pk}/complete/")
    second = learner_client.post(f"/api/lessons/{lesson.pk}/complete/")
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["progress_sync"] == "queued" and second.json()["progress_sync"] == "not_needed"
    assert LessonCompletion.objects.filter(lesson=lesson).count() == 1


def test_complete_records_the_token_user_as_the_jobs_trigger(api_client):
    # Token users are authenticated by the API view, after the middleware that names the trigger.
    from rest_framework.authtoken.models import Token

    from jobs.models import Job

    user = UserFactory()
    lesson = LessonFactory()
    EnrollmentFactory(learner=user, course=lesson.course)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert api_client.post(f"/api/lessons/{lesson.pk}/complete/").status_code == 202
    job = Job.objects.get(task_name="enrollments.sync_progress")
    assert job.triggered_by == f"user:{user.pk} POST /api/lessons/{lesson.pk}/complete/"


def test_complete_counts_on_the_enrollment_of_the_lessons_own_course(learner_client):
    lesson = LessonFactory()
    other = EnrollmentFactory(learner=learner_client.user)
    mine = EnrollmentFactory(learner=learner_client.user, course=lesson.course)
    response = learner_client.post(f"/api/lessons/{lesson.pk}/complete/")
    assert response.status_code == 202 and response.json()["enrollment_id"] == mine.pk
    assert not LessonCompletion.objects.filter(enrollment=other).exists()


def test_complete_is_404_without_enrollment_or_for_unpublished_lessons(learner_client):
    not_enrolled = LessonFactory()
    assert learner_client.post(f"/api/lessons/{not_enrolled.pk}/complete/").status_code == 404
    course = CourseFactory()
    EnrollmentFactory(learner=learner_client.user, course=course)
    draft = LessonFactory(course=course, is_published=False)
    assert learner_client.post(f"/api/lessons/{draft.pk}/complete/").status_code == 404
    assert learner_client.post("/api/lessons/999999/complete/").status_code == 404
    hidden_course = CourseFactory(is_published=False)
    EnrollmentFactory(learner=learner_client.user, course=hidden_course)
    hidden = LessonFactory(course=hidden_course)
    assert learner_client.post(f"/api/lessons/{hidden.pk}/complete/").status_code == 404
    cancelled = EnrollmentFactory(learner=learner_client.user, status=Enrollment.Status.CANCELLED)
    in_cancelled = LessonFactory(course=cancelled.course)
    assert learner_client.post(f"/api/lessons/{in_cancelled.pk}/complete/").status_code == 404
    assert not LessonCompletion.objects.exists()


def test_learner_sees_only_own_enrollments_and_gets_404_for_others(learner_client):
    mine = EnrollmentFactory(learner=learner_client.user)
    theirs = EnrollmentFactory()
    listing = learner_client.get("/api/enrollments/").json()
    assert [e["id"] for e in listing["results"]] == [mine.pk]
    assert learner_client.get(f"/api/enrollments/{mine.pk}/").status_code == 200
    assert learner_client.get(f"/api/enrollments/{theirs.pk}/").status_code == 404


def test_enrollment_detail_reports_progress_fields(learner_client):
    enrollment = EnrollmentFactory(learner=learner_client.user)
    body = learner_client.get(f"/api/enrollments/{enrollment.pk}/").json()
    assert set(body) >= {
        "progress_percent",
        "status",
        "completed_at",
        "last_synced_at",
        "lessons_completed",
        "certificate_url",
    }


def test_schema_and_docs_are_served(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/lessons/{id}/complete/", "/api/courses/{slug}/enroll/", "/api/auth/register/"} <= set(paths)
    assert api_client.get("/api/docs/").status_code == 200


def test_malformed_json_is_a_400_not_a_500(api_client):
    response = api_client.post("/api/auth/register/", data="{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_learners_enrollment_list_costs_four_queries_whatever_its_length(django_assert_max_num_queries):
    # Token, the permission check (one query, not the two of loading every permission), count, page.
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tests.enrollments.factories import EnrollmentFactory

    first = EnrollmentFactory()
    token = Token.objects.create(user=first.learner)
    for _ in range(5):
        EnrollmentFactory(learner=first.learner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.get("/api/enrollments/")  # warm the content-type cache
    with django_assert_max_num_queries(4):
        response = client.get("/api/enrollments/?page_size=100")
    assert response.status_code == 200 and response.json()["count"] == 6
