"""Issue "Learner journey", end to end in headless Chromium: sign up, enroll, complete every lesson, and
watch the dashboard's progress bar reach 100% once the real Celery worker has synced the enrollment.

The page is served by pytest-django's `live_server` (a thread of this process) against the test
database; the progress sync runs in the `worker` subprocess. Playwright's sync API keeps an asyncio loop
running in this thread, where Django refuses ORM calls, so rows are created before the browser starts and
checked after it stops.
"""

import json
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django_celery_results.models import TaskResult

from enrollments.models import Enrollment
from tests.browser.axe import assert_accessible
from tests.conftest import ROOT
from tests.courses.factories import CourseFactory, LessonFactory
from tests.utils import wait_for

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the background-networking flags Chromium's own connections (updates, sync, field trials) fail
# on an offline machine and crowd out the page's requests.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (run .ci/install-browser to install it)"
)
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (run .ci/install-browser to install it)", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@contextmanager
def chromium_page(base_url: str):
    """A fresh browser page on `base_url`; on failure, a screenshot of where it stopped."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=base_url, viewport={"width": 1100, "height": 760})
            page.set_default_timeout(15_000)
            try:
                yield page
            except BaseException:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENSHOTS / "failure.png", full_page=True)
                raise
        finally:
            browser.close()


def _wait_for_complete_progress(page, card, *, attempts: int = 4) -> None:
    """Wait for the card's bar to reach 100%: the page's own script polls the API while a sync is
    pending; if it gives up first, reload, as a person would."""
    bar = card.get_by_role("progressbar")
    for attempt in range(attempts):
        try:
            sync_api.expect(bar).to_have_attribute("aria-valuenow", "100", timeout=15_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise
            page.reload()


def test_learner_signs_up_enrolls_completes_every_lesson_and_sees_full_progress(live_server, worker):
    course = CourseFactory(title="Practical Celery", slug="practical-celery", summary="Queues without tears.")
    lessons = [
        LessonFactory(course=course, title="Brokers and queues", slug="brokers", position=1),
        LessonFactory(course=course, title="Retries and idempotency", slug="retries", position=3),
        LessonFactory(course=course, title="Monitoring with Flower", slug="monitoring", position=4),
    ]
    draft = LessonFactory(course=course, title="Draft: chords", slug="chords", position=2, is_published=False)
    email = "ada@example.com"

    with chromium_page(live_server.url) as page:
        expect = sync_api.expect

        page.goto("/accounts/signup/")
        assert_accessible(page)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Full name").fill("Ada Lovelace")
        page.get_by_label("Password", exact=True).fill("a-long-and-unusual-passphrase")
        page.get_by_label("Confirm password").fill("a-long-and-unusual-passphrase")
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_role("status")).to_contain_text("Welcome! Your account is ready.")
        expect(page.get_by_role("navigation", name="Main")).to_contain_text("Ada")
        assert_accessible(page)  # with a flash message

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
        expect(page.get_by_role("heading", name="Course catalog")).to_be_visible()
        course_card = page.locator("article", has=page.get_by_role("link", name="Practical Celery"))
        expect(course_card).to_contain_text("3 lessons")
        assert_accessible(page)
        course_card.get_by_role("link", name="Practical Celery").click()

        expect(page.get_by_role("heading", name="Practical Celery", level=1)).to_be_visible()
        syllabus = page.locator("ol.syllabus > li")
        expect(syllabus).to_have_count(3)
        expect(syllabus).to_contain_text([lesson.title for lesson in lessons])
        expect(page.get_by_text(draft.title)).to_have_count(0)
        assert_accessible(page)
        page.get_by_role("button", name="Enroll").click()
        expect(page.get_by_role("status")).to_contain_text("You are enrolled in Practical Celery.")
        expect(page.get_by_role("progressbar", name="Course progress")).to_have_attribute("aria-valuenow", "0")
        assert_accessible(page)
        page.get_by_role("link", name="Continue").click()

        # Each "Mark complete" leads on to the next published lesson (the draft is skipped), the last to
        # the dashboard.
        for lesson in lessons:
            expect(page.get_by_role("heading", name=lesson.title, level=1)).to_be_visible()
            assert_accessible(page)
            page.get_by_role("button", name="Mark complete").click()
            expect(page.get_by_role("status")).to_contain_text(f"“{lesson.title}” marked complete.")
        # The last one lands on the dashboard, often before the worker has synced: then the page's own
        # script is what moves the bar, so the test does not open the page afresh.
        expect(page).to_have_url(f"{live_server.url}/dashboard/")
        expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
        card = page.locator("article.enrollment", has=page.get_by_role("link", name="Practical Celery"))
        _wait_for_complete_progress(page, card)
        expect(card.get_by_role("progressbar", name="Progress in Practical Celery")).to_have_attribute(
            "aria-valuenow", "100"
        )
        expect(card.locator('[data-field="status"]')).to_have_text("Completed")
        expect(card).to_contain_text("100% complete · 3 lessons done")
        expect(card.get_by_text("updating…")).to_have_count(0)
        assert_accessible(page)

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    enrollment = Enrollment.objects.get(learner__email=email, course=course)
    assert (enrollment.progress_percent, enrollment.status) == (100, Enrollment.Status.COMPLETED)

    # The worker stores a task's result just after the task's own commit: wait for it rather than race.
    def sync_results() -> list[dict]:
        rows = TaskResult.objects.filter(task_name="enrollments.sync_progress", status="SUCCESS")
        return [json.loads(row.result) for row in rows]

    wait_for(
        lambda: {"enrollment_id": enrollment.pk, "progress_percent": 100, "status": "completed"} in sync_results(),
        timeout=20,
        message="a successful enrollments.sync_progress TaskResult reporting 100%",
    )
