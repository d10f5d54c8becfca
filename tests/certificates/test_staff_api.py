"""Staff revoke and regenerate certificates through the API, as the admin's actions do."""

import pytest

from certificates import services
from certificates.models import Certificate
from jobs.models import Job
from tests.jobs.factories import UserFactory, staff_with
from tests.utils import field_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(completed_enrollment):
    return services.certificate_issue(enrollment_id=completed_enrollment.pk)


@pytest.fixture
def registrar(api_client):
    user = staff_with("certificates.change_certificate", email="registrar@example.com")
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def test_staff_revoke_a_certificate_and_verification_says_so(registrar, certificate):
    response = registrar.post(
        f"/api/certificates/{certificate.pk}/revoke/", {"reason": "Issued in error"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"]) == (certificate.pk, "revoked") and body["revoked_at"]
    certificate.refresh_from_db()
    assert (certificate.revoked_reason, certificate.revoked_by) == ("Issued in error", registrar.user)
    verification = registrar.get(f"/api/certificates/verify/{certificate.code}/").json()
    assert verification["valid"] is False and verification["status"] == "revoked"


def test_revoking_twice_keeps_the_first_reason(registrar, certificate):
    url = f"/api/certificates/{certificate.pk}/revoke/"
    registrar.post(url, {"reason": "First"}, format="json")

    response = registrar.post(url, {"reason": "Second"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert Certificate.objects.get().revoked_reason == "First"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": ["a"]}, {"reason": "x" * 2001}])
def test_a_revoke_without_a_usable_reason_is_a_400_on_reason(registrar, certificate, body):
    response = registrar.post(f"/api/certificates/{certificate.pk}/revoke/", body, format="json")

    assert response.status_code == 400
    assert "reason" in field_errors(response)
    assert Certificate.objects.get().status == "issued"


def test_a_form_revoke_is_a_415(registrar, certificate):
    response = registrar.post(f"/api/certificates/{certificate.pk}/revoke/", {"reason": "x"}, format="multipart")
    assert response.status_code == 415
    assert Certificate.objects.get().status == "issued"


def test_staff_queue_a_regeneration(registrar, certificate):
    jobs = Job.objects.count()

    response = registrar.post(f"/api/certificates/{certificate.pk}/regenerate/", {"refresh_names": True}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "issued"
    job = Job.objects.order_by("-pk").first()
    assert Job.objects.count() == jobs + 1
    assert (job.task_name, job.kwargs) == (
        "certificates.regenerate_certificate",
        {"certificate_id": certificate.pk, "refresh_names": True},
    )


def test_an_empty_regenerate_body_keeps_the_names(registrar, certificate):
    response = registrar.post(f"/api/certificates/{certificate.pk}/regenerate/")

    assert response.status_code == 202, response.content
    assert Job.objects.order_by("-pk").first().kwargs["refresh_names"] is False


def test_regenerating_a_revoked_certificate_is_a_409(registrar, certificate):
    services.certificate_revoke(certificate=certificate, reason="Issued in error")
    jobs = Job.objects.count()

    response = registrar.post(f"/api/certificates/{certificate.pk}/regenerate/", {}, format="json")

    assert response.status_code == 409 and response.json()["status"] == "revoked"
    assert Job.objects.count() == jobs


def test_a_bad_regenerate_body_is_a_400(registrar, certificate):
    response = registrar.post(
        f"/api/certificates/{certificate.pk}/regenerate/", {"refresh_names": "perhaps"}, format="json"
    )
    assert response.status_code == 400 and "refresh_names" in field_errors(response)


def test_a_missing_certificate_is_a_404(registrar):
    assert registrar.post("/api/certificates/999999/revoke/", {"reason": "x"}, format="json").status_code == 404
    assert registrar.post("/api/certificates/999999/regenerate/", {}, format="json").status_code == 404


def test_the_learner_cannot_revoke_their_own_certificate(api_client, certificate):
    api_client.force_authenticate(certificate.enrollment.learner)

    response = api_client.post(f"/api/certificates/{certificate.pk}/revoke/", {"reason": "x"}, format="json")

    assert response.status_code == 403
    assert Certificate.objects.get().status == "issued"


def test_a_learner_cannot_regenerate(api_client, certificate):
    api_client.force_authenticate(UserFactory())
    assert api_client.post(f"/api/certificates/{certificate.pk}/regenerate/", {}, format="json").status_code == 403
