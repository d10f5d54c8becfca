"""Every API error has one shape, {type, errors: [{code, detail, attr}]}, with a code a client can branch on,
whether DRF, a service, Django's own error views or a crash produced it."""

import pytest
from django.urls import path
from rest_framework.views import APIView

from lms.urls import urlpatterns as lms_urlpatterns
from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_taken_email_is_a_field_error_with_code_unique(api_client):
    UserFactory(email="taken@example.com")
    response = api_client.post(
        "/api/auth/register/", {"email": "taken@example.com", "password": "a-long-passphrase-42"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [{"code": "unique", "detail": "An account with this email already exists.", "attr": "email"}],
    }


def test_a_weak_password_keeps_the_code_of_the_validator_that_refused_it(api_client):
    response = api_client.post(
        "/api/auth/register/", {"email": "n@example.com", "password": "12345678901"}, format="json"
    )
    codes = {(error["attr"], error["code"]) for error in response.json()["errors"]}
    assert ("password", "password_entirely_numeric") in codes


def test_wrong_credentials_are_a_non_field_error(api_client):
    UserFactory(email="someone@example.com")
    response = api_client.post("/api/auth/token/", {"email": "someone@example.com", "password": "no"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "authorization",
            "detail": "Unable to log in with the provided credentials.",
            "attr": "non_field_errors",
        }
    ]


def test_no_token_is_a_401_with_its_code(api_client):
    response = api_client.get("/api/enrollments/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


class CrashingView(APIView):
    permission_classes = []

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [path("api/test-drf-crash/", CrashingView.as_view()), *lms_urlpatterns]


@pytest.mark.urls("tests.api.test_errors")
def test_a_crash_inside_an_api_view_is_a_500_in_the_same_shape_and_is_still_logged(client, caplog):
    client.raise_request_exception = False
    response = client.get("/api/test-drf-crash/")
    # Answering the crash must not hide it: it is logged with its traceback (and Sentry sees the same signal).
    logged = [record for record in caplog.records if record.name == "django.request" and record.exc_info]
    assert logged and "boom" in str(logged[0].exc_info[1])
    assert response.status_code == 500
    assert response.json() == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "A server error occurred.", "attr": None}],
    }


def test_a_field_error_raised_without_a_code_still_has_one(db):
    from rest_framework.test import APIClient

    from tests.jobs.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    response = client.get("/api/enrollments/", {"after_id": 5})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "invalid", "detail": "Pass after_id together with updated_since.", "attr": "after_id"}
    ]
