"""Every error under /api/ is JSON, whatever raised it."""

import json

import pytest
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_protect

from lms.urls import urlpatterns as lms_urlpatterns
from tests.utils import error_detail, field_errors

pytestmark = pytest.mark.django_db


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("url", ["/api/auth/register/", "/api/auth/token/"])
@pytest.mark.parametrize("levels", [1000, 100_000])
def test_deeply_nested_json_is_a_400_json(api_client, url, levels):
    body = '{"email": ' + deep(levels) + "}"
    response = api_client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in error_detail(response)
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_nesting_just_past_the_limit_is_refused_and_within_it_is_parsed(api_client):
    too_deep = api_client.post("/api/auth/token/", {"email": json.loads(deep(32))}, format="json")
    fine = api_client.post("/api/auth/token/", {"email": json.loads(deep(30))}, format="json")
    assert too_deep.status_code == 400 and "nested deeper" in error_detail(too_deep)
    assert fine.status_code == 400 and "email" in field_errors(fine)  # a field error, as before


def test_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }


def test_unknown_page_url_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_wrong_method_on_the_api_is_a_json_405(api_client):
    response = api_client.get("/api/auth/token/")
    assert response.status_code == 405 and response.json()["errors"][0]["code"] == "method_not_allowed"


def crash(request):
    raise RuntimeError("boom")


@csrf_protect
def form_post(request):
    return HttpResponse("ok")


# A URLconf with a view that crashes and a CSRF-protected plain view under /api/, and the project's handlers.
urlpatterns = [path("api/test-crash/", crash), path("api/test-form/", form_post), *lms_urlpatterns]
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"


@pytest.mark.urls("tests.accounts.test_api_errors")
def test_server_error_under_api_is_json(client):
    client.raise_request_exception = False
    response = client.get("/api/test-crash/")
    assert response.status_code == 500
    assert response.json() == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "A server error occurred.", "attr": None}],
    }


@pytest.mark.urls("tests.accounts.test_api_errors")
def test_csrf_failure_under_api_is_json():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/test-form/")
    assert response.status_code == 403 and error_detail(response).startswith("CSRF Failed")
