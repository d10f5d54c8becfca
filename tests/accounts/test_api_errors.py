"""Every error under /api/ is JSON, whatever raised it."""

import json

import pytest
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_protect

from lms.urls import urlpatterns as lms_urlpatterns

pytestmark = pytest.mark.django_db


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("url", ["/api/auth/register/", "/api/auth/token/"])
@pytest.mark.parametrize("levels", [1000, 100_000])
def test_deeply_nested_json_is_a_400_json(api_client, url, levels):
    body = '{"email": ' + deep(levels) + "}"
    response = api_client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["detail"]


def test_nesting_just_past_the_limit_is_refused_and_within_it_is_parsed(api_client):
    too_deep = api_client.post("/api/auth/token/", {"email": json.loads(deep(32))}, format="json")
    fine = api_client.post("/api/auth/token/", {"email": json.loads(deep(30))}, format="json")
    assert too_deep.status_code == 400 and "nested deeper" in too_deep.json()["detail"]
    assert fine.status_code == 400 and "email" in fine.json()  # a field error, as before


def test_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}


def test_unknown_page_url_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_wrong_method_on_the_api_is_a_json_405(api_client):
    response = api_client.get("/api/auth/token/")
    assert response.status_code == 405 and "detail" in response.json()


def crash(request):
    raise RuntimeError("boom")


@csrf_protect
def form_post(request):
    return HttpResponse("ok")


# A URLconf with a view that crashes and a CSRF-protected plain view under /api/, and the project's handlers.
urlpatterns = [path("api/test-crash/", crash), path("api/test-form/", form_post), *lms_urlpatterns]
handler400 = "lms.views.bad_request"
handler403 = "lms.views.permission_denied"
handler404 = "lms.views.page_not_found"
handler500 = "lms.views.server_error"


@pytest.mark.urls("tests.accounts.test_api_errors")
def test_server_error_under_api_is_json(client):
    client.raise_request_exception = False
    response = client.get("/api/test-crash/")
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred."}


@pytest.mark.urls("tests.accounts.test_api_errors")
def test_csrf_failure_under_api_is_json():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/test-form/")
    assert response.status_code == 403 and response.json()["detail"].startswith("CSRF Failed")
