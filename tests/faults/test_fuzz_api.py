"""Bad input never makes a 500: schemathesis generates requests for every operation in /api/schema/ (valid
and invalid bodies, paths and parameters) and sends them to the app, as a staff client."""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from lms.wsgi import application
from tests.courses.factories import LessonFactory
from tests.enrollments.factories import EnrollmentFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# Valid and deliberately invalid inputs (wrong types, missing fields, out-of-range values); no example
# database, so every run starts from the same seeds.
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE], database="none"
)


@pytest.fixture
def in_process_wsgi():
    """Calling the WSGI app directly would close the test's database connection at each request end;
    Django's own test client avoids that the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, reset_queries

    request_started.disconnect(reset_queries)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(reset_queries)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(db, in_process_wsgi):
    # A superuser: the fuzzer should reach every staff operation, not stop at its permission check.
    staff = get_user_model().objects.create_superuser(email="fuzz@example.com", password="x")
    lesson = LessonFactory(course__slug="fuzz")
    EnrollmentFactory(learner=staff, course=lesson.course)
    return {"Authorization": f"Token {Token.objects.create(user=staff).key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_500(case, auth_header):
    response = case.call(headers=auth_header)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
