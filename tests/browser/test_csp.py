"""The Content-Security-Policy breaks nothing: pages, the admin and the API docs load in headless Chromium
with no CSP violation reported, and the scripts they need run (Swagger UI and Redoc render the schema,
the dashboard's script polls the API)."""

import pytest

from tests.browser.test_learner_journey import CHROMIUM_ARGS, chromium_page, sync_api  # noqa: F401 - skips
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"
# Redoc's "API docs by Redocly" badge loads its logo from Redocly's CDN; the policy blocks it on purpose
# (no third-party requests from our pages) and only that small image is missing.
EXPECTED_BLOCKED = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def watch_violations(page) -> list[str]:
    """CSP violations as Chromium reports them: console errors and `securitypolicyviolation` events."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return violations


def log_in(page, email: str, path: str = "/accounts/login/") -> None:
    page.goto(path)
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form [type=submit]").click()


def test_site_and_api_docs_load_without_csp_violations(live_server):
    EnrollmentFactory(learner=UserFactory(email="ada@example.com"))
    with chromium_page(live_server.url) as page:
        violations = watch_violations(page)
        for path in ["/", "/courses/", "/accounts/signup/", "/certificates/verify/"]:
            page.goto(path)
        log_in(page, "ada@example.com")
        sync_api.expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
        page.goto("/api/docs/")
        sync_api.expect(page.locator(".swagger-ui .info .title")).to_contain_text("LMS API")
        page.goto("/api/redoc/")
        sync_api.expect(page.locator("h1")).to_contain_text("LMS API")
        assert [text for text in violations if EXPECTED_BLOCKED not in text] == []


def test_admin_loads_without_csp_violations(live_server):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    with chromium_page(live_server.url) as page:
        violations = watch_violations(page)
        log_in(page, staff.email, "/admin/login/")
        sync_api.expect(page.locator("#site-name")).to_be_visible()
        for path in ["/admin/accounts/user/", f"/admin/accounts/user/{staff.pk}/change/", "/admin/jobs/job/"]:
            page.goto(path)
            sync_api.expect(page.locator("#content")).to_be_visible()
        assert violations == []
