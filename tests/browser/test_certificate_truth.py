"""Issue "Learners and staff see what is true", in headless Chromium: a learner without a name is asked
for it at 100 % and gets a certificate with that name; a revoked certificate shows as revoked on the
dashboard, on the public page and behind the PDF link; error pages; axe-core finds nothing on any page.

Rows are created before the browser starts and checked after it stops (see test_learner_journey.py).
"""

import pytest
from django.utils import timezone

from certificates import services as certificate_services
from certificates.models import Certificate
from tests.browser.axe import assert_accessible
from tests.browser.test_learner_journey import SCREENSHOTS, chromium_page, sync_api
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PASSWORD = "correct-horse-battery"


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _reload_until(page, locator, *, attempts: int = 8) -> None:
    """Reload until `locator` is visible: the worker finishes in the background, a person refreshes."""
    for attempt in range(attempts):
        try:
            sync_api.expect(locator).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise
            page.reload()


def test_a_learner_without_a_name_is_asked_at_100_percent_then_gets_a_certificate_with_it(
    live_server, worker, settings
):
    settings.SITE_URL = live_server.url  # the certificate page links to the public page on SITE_URL
    course = CourseFactory(title="Practical Celery", slug="practical-celery")
    lesson = LessonFactory(course=course, title="Brokers and queues", slug="brokers", position=1)
    learner = UserFactory(email="nameless@example.com", full_name="")
    EnrollmentFactory(course=course, learner=learner)

    with chromium_page(live_server.url) as page:
        expect = sync_api.expect
        log_in(page, learner.email)
        page.goto(lesson.get_absolute_url())
        assert_accessible(page)
        page.get_by_role("button", name="Mark complete").click()
        expect(page).to_have_url(f"{live_server.url}/dashboard/")

        # The page's script shows the form when the worker has synced progress to 100 % (or the page,
        # if the sync was first).
        name_form = page.get_by_role("region", name="Your certificate needs your name")
        _reload_until(page, name_form)
        card = page.locator("article.enrollment", has=page.get_by_role("link", name="Practical Celery"))
        expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
        expect(page.locator("main")).not_to_contain_text("nameless@example.com")
        assert_accessible(page)

        page.get_by_label("Your full name").fill("nameless@example.com")  # not a name: a form error
        name_form.get_by_role("button", name="Issue my certificate").click()
        expect(page.locator(".errorlist")).to_contain_text("Enter your name, not an email address.")
        assert_accessible(page)
        page.get_by_label("Your full name").fill("Grace Hopper")
        page.get_by_role("button", name="Issue my certificate").click()
        expect(page.get_by_role("status")).to_contain_text("Your certificate is being prepared for Grace Hopper.")
        assert_accessible(page)  # with the flash message

        _reload_until(page, page.get_by_role("link", name="View your certificate"))
        page.get_by_role("link", name="View your certificate").click()
        expect(page.locator("main")).to_contain_text("Issued to Grace Hopper")
        assert_accessible(page)
        page.get_by_role("link", name="public verification page").click()
        expect(page.locator(".verdict.valid")).to_contain_text("Valid.")
        expect(page.locator("main")).to_contain_text("Grace Hopper")
        assert_accessible(page)

    certificate = Certificate.objects.get(enrollment__learner=learner)
    assert (certificate.status, certificate.learner_name) == ("issued", "Grace Hopper")


def test_a_revoked_certificate_shows_as_revoked_everywhere_and_error_pages_are_accessible(
    live_server, transactional_db
):
    course = CourseFactory(title="Practical Celery", slug="practical-celery")
    learner = UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    enrollment = EnrollmentFactory(course=course, learner=learner, status="completed", completed_at=timezone.now())
    enrollment.progress_percent = 100
    enrollment.save()
    issued = certificate_services.certificate_issue(enrollment_id=enrollment.pk)
    certificate = certificate_services.certificate_revoke(certificate=issued, reason="Plagiarised final project.")
    revoked_on = certificate.revoked_at.strftime("%-d %B %Y")

    with chromium_page(live_server.url) as page:
        expect = sync_api.expect
        for path in ("/", "/courses/", "/courses/practical-celery/", "/accounts/password-reset/"):
            page.goto(path)
            assert_accessible(page)
        log_in(page, learner.email)
        expect(page).to_have_url(f"{live_server.url}/dashboard/")
        card = page.locator("article.enrollment", has=page.get_by_role("link", name="Practical Celery"))
        expect(card).to_contain_text(f"Certificate revoked on {revoked_on}: Plagiarised final project.")
        expect(card.get_by_role("link", name="View your certificate")).to_have_count(0)
        assert_accessible(page)

        response = page.goto(f"/certificates/{certificate.pk}/pdf/")
        assert response.status == 410 and response.headers["content-type"].startswith("text/html")
        expect(page.get_by_role("heading", name="This certificate was revoked")).to_be_visible()
        assert_accessible(page)

        page.goto(f"/certificates/{certificate.pk}/")
        expect(page.locator(".verdict.revoked")).to_contain_text("Plagiarised final project.")
        assert_accessible(page)
        for path in ("/accounts/profile/", "/accounts/password/", "/courses/practical-celery/"):
            page.goto(path)
            assert_accessible(page)

        page.goto(f"/certificates/verify/{certificate.code}/")
        expect(page.locator(".verdict.revoked")).to_contain_text("Revoked. This certificate is no longer valid")
        colour = page.locator(".verdict.revoked").evaluate("el => getComputedStyle(el).backgroundColor")
        assert colour == "rgb(253, 232, 232)", "revoked has its own (red) colour, not the grey badge"
        assert_accessible(page)

        response = page.goto("/certificates/verify/AAAABBBBCCCCDDDDEEEEFFFF/")
        assert response.status == 404
        expect(page.get_by_role("heading", name="No certificate with this code")).to_be_visible()
        assert_accessible(page)
        response = page.goto("/no-such-page/")
        assert response.status == 404
        expect(page.get_by_role("link", name="Back to the home page")).to_be_visible()
        assert_accessible(page)
        page.goto("/certificates/verify/")
        assert_accessible(page)
        assert page.goto("/favicon.ico").status == 200


def test_the_jobs_list_fits_1280_pixels(live_server, transactional_db):
    from django.contrib.auth import get_user_model

    from jobs.models import Job

    get_user_model().objects.create_superuser(email="root@example.com", password=PASSWORD)
    for n in range(5):
        Job.objects.create(
            task_name="notifications.send_bulk_email",
            kwargs={"kind": "welcome", "object_id": n},
            queue="email_bulk",
            triggered_by="import 12345 by user:1 (retry by user:1)",
        )

    with sync_api.sync_playwright() as playwright:
        from tests.browser.test_learner_journey import CHROMIUM, CHROMIUM_ARGS

        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=live_server.url, viewport={"width": 1280, "height": 800})
            log_in(page, "root@example.com")
            page.goto("/admin/jobs/job/")
            sync_api.expect(page.locator("#result_list")).to_be_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / "jobs-list-1280.png", full_page=True)
            # The admin puts the table in a scrolling box: "cut off" is the table wider than its box.
            page_width, table_width, box_width = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.querySelector('#result_list').scrollWidth,"
                " document.querySelector('.results').clientWidth]"
            )
        finally:
            browser.close()
    assert page_width <= 1280, f"the page is {page_width} px wide"
    assert table_width <= box_width, f"the table ({table_width} px) is cut off by its {box_width} px box"
