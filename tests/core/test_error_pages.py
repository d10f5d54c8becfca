"""Errors answer pages in the site's style (JSON under /api/), and the small things every page asks for."""

import pytest
from django.test import Client

from tests.jobs.factories import UserFactory
from tests.utils import error_detail

pytestmark = pytest.mark.django_db


def _is_site_page(response) -> bool:
    body = response.content.decode()
    return "core/site.css" in body and 'href="/"' in body


def test_unknown_page_is_the_sites_404_with_a_link_home(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and _is_site_page(response)
    assert "Page not found" in response.content.decode()


def test_unknown_api_path_is_still_json(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404 and error_detail(response) == "Not found."


def test_forbidden_staff_page_is_the_sites_403(client):
    from tests.jobs.factories import staff_with

    client.force_login(staff_with(email="nobody@example.com"))
    response = client.get("/staff/imports/new/")
    assert response.status_code == 403 and _is_site_page(response)
    assert "Not allowed" in response.content.decode()


def test_a_crash_is_the_sites_500_page(settings):
    settings.ROOT_URLCONF = "tests.jobs.crash_urls"
    response = Client(raise_request_exception=False).get("/crash/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and 'href="/"' in body and "core/site.css" in body


def test_rate_limited_page_links_home(client, settings):
    settings.CERTIFICATE_VERIFY_RATE = "1/m"
    client.get("/certificates/verify/")
    response = client.get("/certificates/verify/")
    assert response.status_code == 429 and _is_site_page(response)


def test_unknown_verification_code_is_a_friendly_404_page(client):
    response = client.get("/certificates/verify/AAAABBBBCCCCDDDDEEEEFFFF/")
    assert response.status_code == 404 and _is_site_page(response)
    body = response.content.decode()
    assert "No certificate with this code" in body and 'name="code"' in body


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    assert 'rel="icon"' in client.get("/").content.decode()


def test_flash_messages_are_a_list_inside_a_live_region(client):
    user = UserFactory(email="flash@example.com")
    client.force_login(user)
    response = client.post("/accounts/profile/", {"full_name": "Flash Gordon"}, follow=True)
    body = response.content.decode()
    assert '<div role="status"><ul class="messages"><li class="success">Profile saved.</li></ul></div>' in body
