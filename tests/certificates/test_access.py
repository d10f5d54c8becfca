"""Who may see what: owners and staff download; anyone verifies; everyone else gets 404."""

import pytest

from certificates import services
from tests.jobs.factories import UserFactory, staff_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(completed_enrollment):
    return services.certificate_issue(enrollment_id=completed_enrollment.pk)


def test_owner_downloads_the_pdf(client, certificate):
    client.force_login(certificate.enrollment.learner)
    response = client.get(f"/certificates/{certificate.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_another_learner_and_anonymous_get_404_for_the_pdf(client, certificate):
    assert client.get(f"/certificates/{certificate.pk}/pdf/").status_code == 404
    client.force_login(UserFactory())
    assert client.get(f"/certificates/{certificate.pk}/pdf/").status_code == 404
    assert client.get(f"/certificates/{certificate.pk}/").status_code == 404


def test_staff_may_download_any_pdf(client, certificate):
    staff = staff_with("certificates.view_certificate", email="staff@example.com")
    client.force_login(staff)
    assert client.get(f"/certificates/{certificate.pk}/pdf/").status_code == 200


def test_api_pdf_is_owner_or_staff_only(api_client, certificate):
    api_client.force_authenticate(UserFactory())
    assert api_client.get(f"/api/certificates/{certificate.pk}/pdf/").status_code == 404
    assert api_client.get(f"/api/certificates/{certificate.pk}/").status_code == 404
    api_client.force_authenticate(certificate.enrollment.learner)
    assert api_client.get(f"/api/certificates/{certificate.pk}/pdf/").status_code == 200
    body = api_client.get(f"/api/certificates/{certificate.pk}/").json()
    assert body["status"] == "issued" and body["code"] == certificate.display_code
    assert body["verification_url"].endswith(f"/certificates/verify/{certificate.code}/")
    assert body["download_url"].endswith(f"/api/certificates/{certificate.pk}/pdf/")
    assert [c["id"] for c in api_client.get("/api/certificates/").json()["results"]] == [certificate.pk]


def test_public_verification_shows_valid_then_revoked(client, api_client, certificate):
    page = client.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert "Valid" in page and "Zoë Łukasiewicz-Ørsted" in page and "Python für Anfänger" in page
    assert api_client.get(f"/api/certificates/verify/{certificate.code}/").json()["valid"] is True

    services.certificate_revoke(certificate=certificate, reason="Issued in error")

    page = client.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert "Revoked" in page
    body = api_client.get(f"/api/certificates/verify/{certificate.code}/").json()
    assert body["valid"] is False and body["status"] == "revoked" and body["revoked_at"]


def test_unknown_code_is_404_on_page_and_api(client, api_client, certificate):
    assert client.get("/certificates/verify/AAAABBBBCCCCDDDDEEEEFFFF/").status_code == 404
    assert api_client.get("/api/certificates/verify/AAAABBBBCCCCDDDDEEEEFFFF/").status_code == 404


def test_typed_code_form_accepts_grouped_lower_case(client, certificate):
    response = client.post("/certificates/verify/", {"code": certificate.display_code.lower()})
    assert response.status_code == 302 and response["Location"] == f"/certificates/verify/{certificate.code}/"
    assert "Enter the code" in client.post("/certificates/verify/", {"code": " - "}).content.decode()


def test_verification_page_is_rate_limited(client, settings, certificate):
    from django.core.cache import caches

    caches["ratelimit"].clear()
    settings.CERTIFICATE_VERIFY_RATE = "5/m"
    statuses = [client.get(f"/certificates/verify/{certificate.code}/").status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    caches["ratelimit"].clear()


def test_dashboard_links_to_the_certificate(client, certificate):
    client.force_login(certificate.enrollment.learner)
    assert f'href="/certificates/{certificate.pk}/"' in client.get("/dashboard/").content.decode()
