"""Certificates tell the truth: issued to a name (never an email address), and revocation reaches the
learner everywhere they look (dashboard, PDF link, public page, email)."""

import pytest
from django.core import mail

from certificates import services
from certificates.models import Certificate
from enrollments import services as enrollment_services
from jobs.models import Job
from notifications.models import Notification
from notifications.services.email import email_send
from tests.certificates.conftest import pdf_text, stored_pdfs
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory
from tests.utils import error_detail

pytestmark = pytest.mark.django_db


@pytest.fixture
def nameless_completed(db):
    """A learner who signed up without a name (or was imported) and completed a course."""
    course = CourseFactory(title="Practical Celery")
    lesson = LessonFactory(course=course)
    learner = UserFactory(email="nameless@example.com", full_name="")
    enrollment = EnrollmentFactory(course=course, learner=learner)
    enrollment_services.lesson_complete(learner=learner, lesson_id=lesson.pk)
    enrollment_services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    return enrollment


def _jobs(task_name: str) -> list[dict]:
    return list(Job.objects.filter(task_name=task_name).values_list("kwargs", flat=True))


def test_without_a_name_the_certificate_waits_and_is_never_issued_to_the_email(nameless_completed, client):
    certificate = services.certificate_issue(enrollment_id=nameless_completed.pk, task_id="t-1")

    assert certificate.status == Certificate.Status.AWAITING_NAME
    assert certificate.get_status_display() == "Awaiting the learner's name"
    assert certificate.learner_name == "" and not certificate.pdf and stored_pdfs() == []
    # Not failed: nothing for staff to retry, nothing told to the learner as an error.
    assert certificate.last_error == ""
    client.force_login(nameless_completed.learner)
    page = client.get("/dashboard/").content.decode()
    assert "Your certificate needs your name" in page
    assert "nameless@example.com" not in page.split("</header>", 1)[1]
    assert "Your certificate is waiting for your name." in page


def test_an_email_address_as_name_is_not_a_name(nameless_completed):
    learner = nameless_completed.learner
    learner.full_name = "NAMELESS@example.com"
    learner.save()
    certificate = services.certificate_issue(enrollment_id=nameless_completed.pk)
    assert certificate.status == Certificate.Status.AWAITING_NAME


def test_dashboard_name_form_sets_the_name_and_queues_the_waiting_certificate(nameless_completed, client):
    waiting = services.certificate_issue(enrollment_id=nameless_completed.pk)
    client.force_login(nameless_completed.learner)

    response = client.post("/dashboard/name/", {"full_name": "  Ada   Lovelace "}, follow=True)

    assert response.status_code == 200
    assert "Your certificate is being prepared for Ada Lovelace." in response.content.decode()
    assert "Your certificate needs your name" not in response.content.decode()
    nameless_completed.learner.refresh_from_db()
    assert nameless_completed.learner.full_name == "Ada Lovelace"
    # The seam recorded the follow-up job; the task queues the issue of each waiting certificate.
    assert _jobs("certificates.issue_awaiting_name") == [{"user_id": nameless_completed.learner.pk}]
    assert services.certificate_issue_awaiting_name(user_id=nameless_completed.learner.pk) == 1
    assert {"enrollment_id": nameless_completed.pk} in _jobs("certificates.issue_certificate")

    issued = services.certificate_issue(enrollment_id=nameless_completed.pk)
    assert issued.pk == waiting.pk and issued.status == "issued" and issued.learner_name == "Ada Lovelace"
    assert "Ada Lovelace" in pdf_text(issued.pdf.read())


@pytest.mark.parametrize("typed", ["", "   ", "ada@example.com", "\u200b\u202e", "\u0958" * 200])
def test_dashboard_name_form_refuses_no_name_or_an_email_with_a_form_error(nameless_completed, client, typed):
    client.force_login(nameless_completed.learner)
    response = client.post("/dashboard/name/", {"full_name": typed})
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    nameless_completed.learner.refresh_from_db()
    assert nameless_completed.learner.full_name == ""
    assert _jobs("certificates.issue_awaiting_name") == []


def test_a_learner_with_a_name_is_not_asked(completed_enrollment, client):
    client.force_login(completed_enrollment.learner)
    assert "Your certificate needs your name" not in client.get("/dashboard/").content.decode()


def test_a_nameless_learner_below_100_percent_is_not_asked_yet(client):
    learner = UserFactory(full_name="")
    EnrollmentFactory(learner=learner)
    client.force_login(learner)
    page = client.get("/dashboard/").content.decode()
    # In the page for the script to reveal at 100 %, but hidden until then.
    assert 'id="name-needed" aria-labelledby="name-needed-title" hidden>' in page


def test_setting_the_name_on_the_profile_page_also_queues_waiting_certificates(nameless_completed, client):
    services.certificate_issue(enrollment_id=nameless_completed.pk)
    client.force_login(nameless_completed.learner)
    client.post("/accounts/profile/", {"full_name": "Ada Lovelace"})
    assert _jobs("certificates.issue_awaiting_name") == [{"user_id": nameless_completed.learner.pk}]


@pytest.fixture
def revoked(completed_enrollment):
    certificate = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    return services.certificate_revoke(certificate=certificate, reason="Plagiarised final project.")


def test_dashboard_shows_the_revocation_with_date_and_reason(client, revoked):
    client.force_login(revoked.enrollment.learner)
    page = client.get("/dashboard/").content.decode()
    assert "View your certificate" not in page
    assert "Certificate revoked" in page and "Plagiarised final project." in page
    assert revoked.revoked_at.strftime("%-d %B %Y") in page
    detail = client.get(f"/certificates/{revoked.pk}/").content.decode()
    assert "Plagiarised final project." in detail and "Download PDF" not in detail


def test_learner_pdf_link_answers_410_with_a_page_not_the_pdf(client, api_client, revoked):
    client.force_login(revoked.enrollment.learner)
    response = client.get(f"/certificates/{revoked.pk}/pdf/")
    assert response.status_code == 410 and response["Content-Type"].startswith("text/html")
    assert "This certificate was revoked" in response.content.decode()
    assert "Plagiarised final project." in response.content.decode()

    api_client.force_authenticate(revoked.enrollment.learner)
    response = api_client.get(f"/api/certificates/{revoked.pk}/pdf/")
    assert response.status_code == 410 and "revoked" in error_detail(response)


def test_public_page_says_revoked_in_words_and_colour_unlike_valid(client, completed_enrollment):
    certificate = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    valid = client.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert 'class="verdict valid"' in valid and "has not been revoked" in valid
    services.certificate_revoke(certificate=certificate, reason="Plagiarised final project.")
    page = client.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert 'class="verdict revoked"' in page and "This certificate is no longer valid" in page
    assert 'class="verdict valid"' not in page


def test_revocation_emails_the_learner_once(revoked):
    # The domain signal queued it through the seam.
    assert {"kind": "certificate_revoked", "object_id": revoked.pk, "nonce": ""} in _jobs("notifications.send_email")
    email_send(kind=Notification.Kind.CERTIFICATE_REVOKED, object_id=revoked.pk)
    email_send(kind=Notification.Kind.CERTIFICATE_REVOKED, object_id=revoked.pk)  # a redelivery

    [message] = mail.outbox
    assert message.to == [revoked.enrollment.learner.email]
    assert message.subject == f"Your certificate for {revoked.course_title} was revoked"
    assert "Reason: Plagiarised final project." in message.body
    assert Notification.objects.get(kind="certificate_revoked").status == "sent"


def test_emails_never_greet_a_nameless_learner_by_their_address():
    learner = UserFactory(email="imported@example.com", full_name="")
    email_send(kind=Notification.Kind.WELCOME, object_id=learner.pk)
    [message] = mail.outbox
    assert message.body.startswith("Hello,")
    assert "Hello imported@example.com" not in message.alternatives[0][0]


def test_certificates_issued_to_an_email_before_are_put_right_by_the_migration():
    import importlib

    from django.apps import apps
    from django.utils import timezone

    from tests.certificates.factories import CertificateFactory

    migration = importlib.import_module("certificates.migrations.0004_certificates_issued_to_an_email")
    issued = {"status": "issued", "issued_at": timezone.now(), "pdf_sha256": "0" * 64, "template_version": "v1"}
    named_since = CertificateFactory(enrollment__learner__email="named@example.com", learner_name="NAMED@example.com")
    named_since.enrollment.learner.full_name = "Named Since"
    named_since.enrollment.learner.save()
    Certificate.objects.filter(pk=named_since.pk).update(**issued)
    nameless = CertificateFactory(enrollment__learner__full_name="", **issued)
    assert nameless.learner_name == nameless.enrollment.learner.email  # what the old code did
    fine = CertificateFactory(enrollment__learner__full_name="Ada Lovelace", **issued)

    migration.fix_email_names(apps, None)

    named_since.refresh_from_db(), nameless.refresh_from_db(), fine.refresh_from_db()
    assert (named_since.status, named_since.learner_name, named_since.template_version) == (
        "issued",
        "Named Since",
        "",  # re-rendered by the hourly "regenerate outdated" task
    )
    assert (nameless.status, nameless.learner_name) == ("awaiting_name", "")
    assert (fine.status, fine.learner_name, fine.template_version) == ("issued", "Ada Lovelace", "v1")
    # The learner gives a name: the same code and issue date, now with the name.
    nameless.enrollment.learner.full_name = "Grace Hopper"
    nameless.enrollment.learner.save()
    reissued = services.certificate_issue(enrollment_id=nameless.enrollment_id)
    assert (reissued.code, reissued.issued_at) == (nameless.code, nameless.issued_at)
    assert reissued.status == "issued" and "Grace Hopper" in pdf_text(reissued.pdf.read())


def test_a_name_set_where_no_signal_is_sent_is_picked_up_by_the_periodic_sweep(nameless_completed):
    services.certificate_issue(enrollment_id=nameless_completed.pk)
    learner = nameless_completed.learner
    type(learner).objects.filter(pk=learner.pk).update(full_name="Ada Lovelace")  # e.g. fixed by support
    Job.objects.all().delete()

    assert services.certificates_issue_named_waiting() == 1
    assert _jobs("certificates.issue_certificate") == [{"enrollment_id": nameless_completed.pk}]
    certificate = services.certificate_issue(enrollment_id=nameless_completed.pk)
    assert certificate.status == Certificate.Status.ISSUED and certificate.learner_name == "Ada Lovelace"


def test_the_sweep_leaves_certificates_whose_learner_still_has_no_name(nameless_completed):
    services.certificate_issue(enrollment_id=nameless_completed.pk)
    Job.objects.all().delete()
    assert services.certificates_issue_named_waiting() == 0 and _jobs("certificates.issue_certificate") == []


def test_an_old_pdf_issued_to_an_email_is_not_served_while_the_certificate_awaits_a_name(client):
    from django.core.files.base import ContentFile

    from tests.certificates.factories import CertificateFactory

    waiting = CertificateFactory(enrollment__learner__full_name="", status="awaiting_name", learner_name="")
    waiting.pdf.save("old.pdf", ContentFile(b"%PDF-1.4 issued to nameless@example.com"), save=True)
    client.force_login(waiting.enrollment.learner)
    assert client.get(f"/certificates/{waiting.pk}/pdf/").status_code == 404
    waiting.pdf.delete(save=False)
