"""Pages answer HEAD, and carry a Content-Security-Policy their own markup keeps to."""

import re

import pytest

from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@pytest.mark.parametrize("url", ["/", "/courses/", "/accounts/login/", "/accounts/signup/", "/certificates/verify/"])
def test_head_is_answered_like_get(client, url):
    assert client.head(url).status_code == 200


def test_head_works_on_signed_in_pages(client, learner):
    client.force_login(learner)
    assert client.head("/dashboard/").status_code == 200
    assert client.head("/accounts/profile/").status_code == 200


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/api/docs/", "/api/redoc/", "/admin/login/"])
def test_pages_carry_a_csp_that_forbids_inline_and_foreign_script(client, url):
    policy = client.get(url)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"


def test_signed_in_pages_have_no_inline_script(client, learner):
    from tests.enrollments.factories import EnrollmentFactory

    EnrollmentFactory(learner=learner)
    client.force_login(learner)
    page = client.get("/dashboard/").content.decode()
    assert "enrollments/dashboard.js" in page
    assert not INLINE_SCRIPT.search(page)


def test_api_docs_load_swagger_ui_without_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(page)
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*)"', page).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_staff_admin_pages_have_no_inline_script(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in ["/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/"]:
        assert not INLINE_SCRIPT.search(client.get(url).content.decode()), url
