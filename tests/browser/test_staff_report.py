"""Issue "Staff reports", in headless Chromium: staff open a course in the admin, launch its progress
report, watch the bar reach 100 % without reloading (the page polls the operations API the worker's
progress lands in) and download the file; axe-core finds nothing on the pages on the way.

Rows are created before the browser starts and checked after it stops (see test_learner_journey.py).
"""

import csv
import io
from pathlib import Path

import pytest

from tests.browser.axe import assert_accessible
from tests.browser.test_certificate_truth import log_in
from tests.browser.test_learner_journey import SCREENSHOTS, chromium_page, sync_api
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import staff_with

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_staff_launch_a_report_from_the_course_admin_watch_it_finish_and_download_it(live_server, worker):
    course = CourseFactory(title="Practical Celery", slug="practical-celery")
    LessonFactory(course=course, position=1)
    for i in range(25):
        EnrollmentFactory(course=course, learner__email=f"learner{i}@example.org")
    staff_with("courses.view_course", "reports.view_report", "reports.add_report", email="editor@example.com")
    expect = sync_api.expect

    with chromium_page(live_server.url) as page:
        log_in(page, "editor@example.com")
        page.goto(f"/admin/courses/course/{course.pk}/change/")
        page.get_by_role("link", name="Generate a report").click()

        expect(page.get_by_label("Course")).to_have_value(str(course.pk))  # the course comes with the link
        page.get_by_label("Report").select_option("course_progress")
        page.get_by_role("button", name="Generate the report").click()

        expect(page.get_by_role("heading", name="Report #", exact=False)).to_be_visible()
        started_at = page.evaluate("() => performance.timeOrigin")
        bar = page.get_by_role("progressbar", name="Progress")
        expect(bar).to_have_attribute("aria-valuenow", "100", timeout=45_000)
        assert page.evaluate("() => performance.timeOrigin") == started_at  # the same page: never reloaded
        expect(page.locator('[data-field="state"]')).to_have_text("Completed")
        assert_accessible(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "report-done.png", full_page=True)

        with page.expect_download() as download:
            page.get_by_role("link", name="Download the result").click()
        content = Path(download.value.path()).read_text(encoding="utf-8-sig")

    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][:2] == ["learner_name", "learner_email"] and len(rows) == 26
    assert {row[1] for row in rows[1:]} == {f"learner{i}@example.org" for i in range(25)}
