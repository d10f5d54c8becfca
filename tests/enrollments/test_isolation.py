"""Learner isolation on every learner-facing page and API operation, and who reads lesson bodies.

Two learners, each with a completed enrollment and a certificate. `OTHERS_ROWS` holds every endpoint that
takes an id a learner could swap for someone else's: with the other learner's ids the answer is 404 and
none of their data is in it, while the owner gets the row's `owner_status` (so no row passes vacuously).
A new learner-facing endpoint with an id gets a row here. Holders of the view permissions (integrators)
read every row: tests/enrollments/test_integrator_api.py.
"""

from dataclasses import dataclass

import pytest

from certificates import services as certificate_services
from enrollments import services
from enrollments.models import LessonCompletion
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory, staff_with

pytestmark = pytest.mark.django_db


def learner_with_certificate(name: str) -> dict:
    course = CourseFactory(title=f"Private course of {name}", slug=f"{name.lower()}-course")
    lesson = LessonFactory(course=course, title=f"Lesson of {name}", body=f"Secret notes of {name}")
    learner = UserFactory(email=f"{name.lower()}@example.com", full_name=name)
    enrollment = EnrollmentFactory(course=course, learner=learner)
    services.lesson_complete(learner=learner, lesson_id=lesson.pk)
    services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    certificate = certificate_services.certificate_issue(enrollment_id=enrollment.pk)
    return {
        "user": learner,
        "email": learner.email,
        "course": course.slug,
        "title": course.title,
        "lesson": lesson.pk,
        "enrollment": enrollment.pk,
        "certificate": certificate.pk,
        "code": certificate.code,
    }


@pytest.fixture
def me(db):
    return learner_with_certificate("Ann")


@pytest.fixture
def other(db):
    return learner_with_certificate("Bob")


@dataclass(frozen=True)
class Row:
    method: str
    url: str  # formatted with a learner's ids
    owner_status: int

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url}"


OTHERS_ROWS = [
    Row("get", "/api/enrollments/{enrollment}/", 200),
    Row("post", "/api/lessons/{lesson}/complete/", 200),  # already complete: 200, not 202
    Row("post", "/lessons/{lesson}/complete/", 302),
    Row("get", "/certificates/{certificate}/", 200),
    Row("get", "/certificates/{certificate}/pdf/", 200),
    Row("get", "/api/certificates/{certificate}/", 200),
    Row("get", "/api/certificates/{certificate}/pdf/", 200),
]

LIST_ROWS = ["/dashboard/", "/api/enrollments/", "/api/certificates/", "/api/auth/me/"]


def leaked(response, learner: dict) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    return [value for value in (learner["email"], learner["title"], learner["code"]) if value in text]


@pytest.mark.parametrize("row", OTHERS_ROWS, ids=str)
def test_another_learner_s_ids_are_not_found_and_nothing_of_theirs_shows(api_client, me, other, row):
    completions = LessonCompletion.objects.count()
    api_client.force_login(me["user"])
    response = getattr(api_client, row.method)(row.url.format(**other))
    assert response.status_code == 404
    assert leaked(response, other) == []
    assert LessonCompletion.objects.count() == completions


@pytest.mark.parametrize("row", OTHERS_ROWS, ids=str)
def test_the_owner_reaches_the_same_endpoint(api_client, me, other, row):
    api_client.force_login(other["user"])
    assert getattr(api_client, row.method)(row.url.format(**other)).status_code == row.owner_status


@pytest.mark.parametrize("url", LIST_ROWS)
def test_lists_show_the_learner_s_own_items_only(api_client, me, other, url):
    api_client.force_login(me["user"])
    response = api_client.get(url)
    assert response.status_code == 200
    assert leaked(response, other) == []
    assert leaked(response, me)  # the learner's own items are there: the check above can fail


# Filters naming another learner or their course find nothing of theirs: filters narrow what the user may read.
OTHERS_FILTERS = [
    "/api/enrollments/?learner={email}",
    "/api/enrollments/?learner={user_id}",
    "/api/enrollments/?course={course}",
    "/api/enrollments/?updated_since=2000-01-01T00:00:00Z",
    "/api/certificates/?learner={email}",
    "/api/certificates/?course={course}",
    "/api/certificates/?updated_since=2000-01-01T00:00:00Z",
]


@pytest.mark.parametrize("url", OTHERS_FILTERS)
def test_filtering_by_another_learner_finds_nothing_of_theirs(api_client, me, other, url):
    api_client.force_login(me["user"])
    response = api_client.get(url.format(user_id=other["user"].pk, **other))
    assert response.status_code == 200
    assert leaked(response, other) == []
    assert all(row["learner_email"] == me["email"] for row in response.json()["results"])


@pytest.mark.parametrize("row", [r for r in OTHERS_ROWS if r.method == "get" and r.url.startswith("/api/")], ids=str)
def test_staff_without_view_permissions_get_404_for_a_learner_s_rows(api_client, other, row):
    api_client.force_login(staff_with(email="staff@example.com"))
    response = api_client.get(row.url.format(**other))
    assert response.status_code == 404
    assert leaked(response, other) == []


# --- Lesson bodies: the syllabus is public, the content is for enrolled learners and permitted staff ------


def reader(kind: str, course):
    if kind == "anonymous":
        return None
    if kind == "staff with courses.view_lesson":
        return staff_with("courses.view_lesson", email="editor@example.com")
    if kind == "staff without permissions":
        return staff_with(email="staff@example.com")
    learner = UserFactory(email=f"{kind.replace(' ', '-')}@example.com")
    status = {"enrolled learner": "active", "cancelled learner": "cancelled"}.get(kind)
    if status:
        EnrollmentFactory(learner=learner, course=course, status=status)
    return learner


READERS = [
    ("anonymous", False),
    ("learner not enrolled", False),
    ("cancelled learner", False),
    ("staff without permissions", False),
    ("enrolled learner", True),
    ("staff with courses.view_lesson", True),
]


@pytest.fixture
def lesson(db):
    course = CourseFactory(title="Cooking")
    LessonFactory(course=course, title="Knives", position=1, body="Hold the *knife* like this.", estimated_minutes=7)
    return LessonFactory(course=course, title="Onions", position=2, body="Chop the onion finely.")


@pytest.mark.parametrize(("kind", "reads"), READERS)
def test_course_api_gives_everyone_the_syllabus_and_bodies_only_to_readers(api_client, lesson, kind, reads):
    user = reader(kind, lesson.course)
    if user:
        api_client.force_login(user)
    body = api_client.get(f"/api/courses/{lesson.course.slug}/").json()
    syllabus = [(item["title"], item["position"], item["estimated_minutes"]) for item in body["lessons"]]
    assert syllabus == [("Knives", 1, 7), ("Onions", 2, 5)]
    bodies = [item["body_html"] for item in body["lessons"]]
    if reads:
        assert "<em>knife</em>" in bodies[0] and "Chop the onion" in bodies[1]
    else:
        assert bodies == [None, None]


@pytest.mark.parametrize(("kind", "reads"), READERS)
def test_lesson_page_shows_the_body_only_to_readers(client, lesson, kind, reads):
    user = reader(kind, lesson.course)
    if user:
        client.force_login(user)
    response = client.get(lesson.get_absolute_url())
    if reads:
        assert response.status_code == 200 and "Chop the onion finely." in response.content.decode()
    else:
        assert response.status_code == 302 and "Chop the onion" not in response.content.decode()
    course_page = client.get(lesson.course.get_absolute_url()).content.decode()
    assert "Knives" in course_page and "Onions" in course_page and "Chop the onion" not in course_page
    assert (f'href="{lesson.get_absolute_url()}"' in course_page) is reads
