"""Staff's view of a course's learners: the list (paginated, sorted, searched, filtered) and one learner
(lessons with completion times, certificate, emails, webhook deliveries, the jobs about the enrollment)."""

import re

import pytest
from django.utils import timezone

from jobs.enqueue import enqueue
from notifications.models import Notification
from tests.certificates.factories import CertificateFactory
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.jobs.factories import UserFactory, staff_with
from tests.notifications.factories_webhooks import WebhookDeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    course = CourseFactory(slug="python-101", title="Python 101")
    lessons = [LessonFactory(course=course, position=i, title=f"Lesson {i}") for i in range(4)]
    for name, percent in [("Ann Archer", 75), ("Bob Baker", 25), ("Cy Cole", 0)]:
        enrollment = EnrollmentFactory(
            course=course, learner=UserFactory(full_name=name, email=f"{name.split()[0].lower()}@example.org"),
            progress_percent=percent, status="cancelled" if name == "Cy Cole" else "active",
        )  # fmt: skip
        for lesson in lessons[: percent // 25]:
            LessonCompletionFactory(enrollment=enrollment, lesson=lesson)
    return course


@pytest.fixture
def staff_client(client):
    client.force_login(staff_with("enrollments.view_enrollment", email="support@example.com"))
    return client


def names(html: str) -> list[str]:
    return re.findall(r'/learners/\d+/">([^<]+)</a>', html)


def test_the_list_sorts_searches_and_filters(staff_client, course):
    base = "/staff/courses/python-101/learners/"

    assert names(staff_client.get(base + "?sort=-progress").content.decode()) == ["Ann Archer", "Bob Baker", "Cy Cole"]
    assert names(staff_client.get(base + "?sort=progress").content.decode()) == ["Cy Cole", "Bob Baker", "Ann Archer"]
    # Never active learners come last either way.
    assert names(staff_client.get(base + "?sort=-activity").content.decode())[-1] == "Cy Cole"
    assert names(staff_client.get(base + "?sort=activity").content.decode())[-1] == "Cy Cole"
    assert names(staff_client.get(base + "?q=BOB%40").content.decode()) == ["Bob Baker"]
    assert names(staff_client.get(base + "?status=cancelled").content.decode()) == ["Cy Cole"]
    page = staff_client.get(base + "?sort=nonsense&status=nonsense&page=99")
    assert page.status_code == 200 and len(names(page.content.decode())) == 3
    assert "3 of 4" in staff_client.get(base + "?q=ann").content.decode()  # lessons completed of published


def test_the_list_is_paginated(staff_client, course):
    for i in range(55):
        EnrollmentFactory(course=course, learner=UserFactory(full_name=f"Extra {i:02}"))

    first = staff_client.get("/staff/courses/python-101/learners/?sort=name").content.decode()
    second = staff_client.get("/staff/courses/python-101/learners/?sort=name&page=2").content.decode()

    assert len(names(first)) == 50 and len(names(second)) == 8 and "Page 2 of 2" in second


def test_one_learner_shows_lessons_certificate_emails_deliveries_and_jobs(staff_client, course):
    from enrollments.models import Enrollment
    from enrollments.tasks import progress_sync_task

    ann = Enrollment.objects.get(learner__email="ann@example.org")
    certificate = CertificateFactory(enrollment=ann, status="issued", issued_at=timezone.now(), pdf_sha256="0" * 64)
    Notification.objects.create(kind="enrollment_confirmation", dedupe_key="x", recipient=ann.learner.email,
                                user=ann.learner, status="queued")  # fmt: skip
    WebhookDeliveryFactory(
        event__event_type="certificate.issued", event__dedupe_key=f"certificate.issued:{certificate.pk}"
    )
    WebhookDeliveryFactory(event__event_type="enrollment.created", event__dedupe_key="enrollment.created:999999")
    enqueue(progress_sync_task, enrollment_id=ann.pk)

    page = staff_client.get(f"/staff/courses/python-101/learners/{ann.pk}/").content.decode()

    assert page.count("<td>Lesson ") == 4 and page.count("<td>—</td>") >= 1  # lesson 3 not completed
    assert certificate.code in page and "Issued" in page
    assert "Enrollment confirmation" in page
    assert "certificate.issued" in page and "enrollment.created" not in page  # only deliveries about them
    assert "enrollments.sync_progress" in page


def test_another_course_s_enrollment_is_404_and_staff_without_the_permission_403(client, course):
    other = EnrollmentFactory(course=CourseFactory(slug="other"))
    client.force_login(staff_with("enrollments.view_enrollment", email="support@example.com"))
    assert client.get(f"/staff/courses/python-101/learners/{other.pk}/").status_code == 404

    client.force_login(staff_with("courses.view_course", email="editor@example.com"))
    assert client.get("/staff/courses/python-101/learners/").status_code == 403
    client.force_login(UserFactory(email="learner@example.org"))
    assert client.get("/staff/courses/python-101/learners/").status_code == 302  # to the admin's login
