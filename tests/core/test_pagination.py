"""The API's pages: the first page skips its COUNT when it is not full, and counts as before otherwise."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.courses.factories import CourseFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db


def _list(api_client, user, **params):
    api_client.force_authenticate(user)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/enrollments/", params)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    return response.json(), counts


def test_a_first_page_that_is_not_full_is_the_whole_list_and_is_not_counted(api_client):
    learner = EnrollmentFactory().learner
    EnrollmentFactory(learner=learner, course=CourseFactory())

    body, counts = _list(api_client, learner, page_size=5)

    assert body["count"] == 2 and len(body["results"]) == 2 and body["next"] is None
    assert counts == []


def test_a_full_first_page_and_later_pages_are_counted(api_client):
    learner = EnrollmentFactory().learner
    for _ in range(2):
        EnrollmentFactory(learner=learner, course=CourseFactory())

    first, counts = _list(api_client, learner, page_size=2)
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"] and len(counts) == 1

    second, _ = _list(api_client, learner, page_size=2, page=2)
    assert second["count"] == 3 and len(second["results"]) == 1 and second["next"] is None
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})


def test_an_empty_list_is_one_empty_page(api_client):
    body, counts = _list(api_client, UserFactory(), page=1)
    assert body == {"count": 0, "next": None, "previous": None, "results": []} and counts == []
