"""Bad input never makes a 500, and every answer is what the schema says: schemathesis generates requests for
every operation in /api/schema/ (valid and invalid bodies, paths and parameters), sends them to the app as a
learner and as staff, and checks each response's status code, media type, headers and body against the
schema (a typed client generated from it would otherwise meet an "unexpected status" or a parse error)."""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(params=["learner", "staff"])
def auth_header(request, db, in_process_wsgi):
    if request.param == "staff":
        # A superuser: the fuzzer should reach every staff operation, not stop at its permission check.
        user = get_user_model().objects.create_superuser(email="fuzz@example.com", password="x")
    else:  # refused by staff operations (403), and the owner of rows the learner operations find
        user = get_user_model().objects.create_user(email="learner@example.com", password="x")
    lesson = LessonFactory(course__slug="fuzz")
    EnrollmentFactory(learner=user, course=lesson.course)
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_conforms_to_the_schema_and_none_is_a_500(case, auth_header):
    case.call_and_validate(headers=auth_header, checks=CHECKS)
