"""Certificates across real boundaries: lesson completed over HTTP -> sync -> pdf queue -> worker."""

import pytest
from django_celery_results.models import TaskResult

from certificates.models import Certificate
from certificates.tasks import certificate_issue_task
from jobs.enqueue import enqueue
from tests.certificates.conftest import pdf_text, stored_pdfs
from tests.courses.factories import course_with_lessons
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory
from tests.utils import wait_for

pytestmark = pytest.mark.integration


def test_completing_the_last_lesson_issues_a_certificate_through_the_worker(worker, api_client):
    # No course-wide recompute is queued by the lessons: the syncs alone must reach 100 %.
    course, lessons = course_with_lessons(2, title="Ελληνικά για αρχάριους")
    learner = UserFactory(full_name="Дмитрий Zoë Łukasiewicz-Ørsted")
    EnrollmentFactory(course=course, learner=learner)
    api_client.force_authenticate(learner)

    for lesson in lessons:
        assert api_client.post(f"/api/lessons/{lesson.pk}/complete/").status_code == 202

    certificate = wait_for(
        lambda: Certificate.objects.filter(enrollment__learner=learner, status="issued").first(),
        timeout=30,
        message="the certificate rendered by the worker",
    )
    text = pdf_text(certificate.pdf.read())
    assert "Дмитрий Zoë Łukasiewicz-Ørsted" in text and certificate.display_code in text
    result = wait_for(
        lambda: TaskResult.objects.filter(task_id=certificate.render_task_id, status="SUCCESS").first(),
        message="the render's TaskResult",
    )
    assert result.task_name == "certificates.issue_certificate"
    body = api_client.get("/api/enrollments/").json()["results"][0]
    assert body["certificate_url"].endswith(f"/api/certificates/{certificate.pk}/")


def test_the_issue_task_delivered_twice_leaves_one_certificate_and_one_file(worker):
    enrollment = EnrollmentFactory(status="completed", completed_at="2026-01-01T00:00:00Z")
    enqueue(certificate_issue_task, enrollment_id=enrollment.pk)
    enqueue(certificate_issue_task, enrollment_id=enrollment.pk)

    wait_for(
        lambda: TaskResult.objects.filter(task_name="certificates.issue_certificate", status="SUCCESS").count() == 2,
        message="both deliveries to finish",
    )
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1
    assert Certificate.objects.get(enrollment=enrollment).status == "issued"
    assert len(stored_pdfs()) == 1
