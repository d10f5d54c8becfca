"""The QR code printed on the certificate opens the verification page of this site (SITE_URL)."""

import shutil
import subprocess

import pytest

from certificates import services

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
        reason="needs pdftoppm (poppler-utils) and zbarimg (zbar-tools): run .ci/install-browser",
    ),
]


def decode_qr_codes(pdf: bytes, tmp_path) -> list[str]:
    """Every QR code on the PDF's first page, as zbar reads it from a 200 dpi rendering."""
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile", "certificate.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page.png")],
        capture_output=True,
        text=True,
    )
    return found.stdout.split()


def test_the_qr_code_decodes_to_the_verification_url_on_site_url(completed_enrollment, settings, tmp_path):
    settings.SITE_URL = "http://127.0.0.1:8310"

    certificate = services.certificate_issue(enrollment_id=completed_enrollment.pk)

    expected = f"http://127.0.0.1:8310/certificates/verify/{certificate.code}/"
    assert decode_qr_codes(certificate.pdf.read(), tmp_path) == [expected]
