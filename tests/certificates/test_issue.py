"""Issuing certificates: one row, one file, one announcement, whatever runs twice."""

import hashlib
import io
import threading

import pytest
from django.db import close_old_connections
from pypdf import PdfReader

from certificates import rendering, services
from certificates.models import Certificate, normalize_code
from certificates.signals import certificate_issued
from tests.certificates.conftest import pdf_text, stored_pdfs
from tests.conftest import is_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued_signals():
    sent = []
    certificate_issued.connect(
        lambda sender, certificate_id, **kw: sent.append(certificate_id), dispatch_uid="t", weak=False
    )
    yield sent
    certificate_issued.disconnect(dispatch_uid="t")


def test_issue_renders_a_pdf_with_name_course_code_and_qr(completed_enrollment, issued_signals):
    certificate = services.certificate_issue(enrollment_id=completed_enrollment.pk, task_id="task-1")

    assert certificate.status == "issued" and certificate.render_task_id == "task-1"
    content = certificate.pdf.read()
    assert hashlib.sha256(content).hexdigest() == certificate.pdf_sha256
    text = pdf_text(content)
    assert "Zoë Łukasiewicz-Ørsted" in text
    assert "Python für Anfänger" in text
    assert certificate.display_code in text
    assert certificate.get_verification_url() in text.replace("\n", "")
    page = PdfReader(io.BytesIO(content)).pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height), "A4 landscape"
    assert round(float(page.mediabox.width)) == 842
    assert len(page.images) == 1, "the QR code"
    assert issued_signals == [certificate.pk]


def test_second_run_of_issue_reuses_the_certificate_and_file(completed_enrollment, issued_signals):
    first = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    second = services.certificate_issue(enrollment_id=completed_enrollment.pk)

    assert first.pk == second.pk and first.pdf_sha256 == second.pdf_sha256
    assert Certificate.objects.count() == 1
    assert len(stored_pdfs()) == 1
    assert issued_signals == [first.pk]


def test_rerun_after_a_crash_mid_render_overwrites_the_same_file(completed_enrollment):
    # A worker died after writing the file but before committing: the row is left "rendering".
    certificate = services.certificate_get_or_create_pending(enrollment=completed_enrollment)
    Certificate.objects.filter(pk=certificate.pk).update(status="rendering")
    path = stored_pdfs()
    assert path == []
    issued = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    assert issued.status == "issued" and len(stored_pdfs()) == 1


@pytest.mark.postgres
def test_concurrent_duplicates_leave_one_certificate_and_one_file(completed_enrollment, transactional_db):
    if not is_postgres():
        pytest.skip("needs PostgreSQL: concurrent writers are serialised by SQLite itself")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def issue():
        try:
            barrier.wait(timeout=5)
            results.append(services.certificate_issue(enrollment_id=completed_enrollment.pk).pk)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert Certificate.objects.count() == 1 and Certificate.objects.get().status == "issued"
    assert len(stored_pdfs()) == 1


def test_names_in_greek_cyrillic_and_scripts_the_font_lacks_never_crash(completed_enrollment):
    for name in ("Дмитрий Ἀλέξανδρος", "山田太郎 🎉"):
        content = rendering.render_pdf(
            learner_name=name,
            course_title="Course",
            issued_on=completed_enrollment.completed_at,
            display_code="AAAA-BBBB",
            verification_url="http://x/verify/AAAABBBB/",
        )
        assert content.startswith(b"%PDF")
    assert "Дмитрий Ἀλέξανδρος" in pdf_text(
        rendering.render_pdf(
            learner_name="Дмитрий Ἀλέξανδρος",
            course_title="Course",
            issued_on=completed_enrollment.completed_at,
            display_code="AAAA-BBBB",
            verification_url="http://x/verify/AAAABBBB/",
        )
    )


def test_a_render_failure_marks_the_certificate_failed_with_the_error(completed_enrollment, monkeypatch):
    monkeypatch.setattr(rendering, "TEMPLATE_NAME", "certificates/missing_template.html")
    with pytest.raises(Exception, match="missing_template"):
        services.certificate_issue(enrollment_id=completed_enrollment.pk, task_id="t-9")
    certificate = Certificate.objects.get()
    assert certificate.status == "failed" and "missing_template" in certificate.last_error
    assert certificate.render_task_id == "t-9"

    monkeypatch.undo()
    assert services.certificate_issue(enrollment_id=completed_enrollment.pk).status == "issued"


def test_regenerate_keeps_the_code_and_the_hash_when_nothing_changed(completed_enrollment):
    issued = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    again = services.certificate_regenerate(certificate_id=issued.pk)
    assert (again.code, again.pdf_sha256, again.issued_at) == (issued.code, issued.pdf_sha256, issued.issued_at)


def test_regenerate_with_a_corrected_name_changes_the_file_but_not_the_code(completed_enrollment):
    issued = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    learner = completed_enrollment.learner
    learner.full_name = "Zoë Łukasiewicz-Ørsted Jr."
    learner.save()

    again = services.certificate_regenerate(certificate_id=issued.pk, refresh_names=True)

    assert again.code == issued.code and again.pdf_sha256 != issued.pdf_sha256
    assert "Ørsted Jr." in pdf_text(again.pdf.read())
    assert len(stored_pdfs()) == 1


def test_revoked_certificates_are_not_regenerated(completed_enrollment):
    from django.core.exceptions import ValidationError

    issued = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    services.certificate_revoke(certificate=issued, reason="Academic misconduct")
    with pytest.raises(ValidationError):
        services.certificate_regenerate(certificate_id=issued.pk)


def test_revoke_needs_a_reason(completed_enrollment):
    from django.core.exceptions import ValidationError

    issued = services.certificate_issue(enrollment_id=completed_enrollment.pk)
    with pytest.raises(ValidationError):
        services.certificate_revoke(certificate=issued, reason="  ")


def test_verification_codes_carry_120_random_bits_and_survive_human_typing():
    codes = {Certificate().code for _ in range(1000)}
    assert len(codes) == 1000
    code = codes.pop()
    assert len(code) == 24 and code.isalnum() and code.isupper()
    grouped = "-".join(code[i : i + 4] for i in range(0, 24, 4)).lower()
    assert normalize_code(f"  {grouped} ") == code


def test_a_reopened_enrollment_without_certificate_is_not_certified(completed_enrollment):
    completed_enrollment.status = "active"
    completed_enrollment.completed_at = None
    completed_enrollment.save()
    assert services.certificate_issue(enrollment_id=completed_enrollment.pk) is None
    assert not Certificate.objects.exists()
