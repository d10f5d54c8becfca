"""Certificate PDFs: a Django template rendered by xhtml2pdf with a Unicode font and a QR code.

Output is byte-for-byte reproducible for the same content (reportlab's invariant mode fixes the
timestamps and document ids), so a regeneration changes the file hash only when the content changes.
"""

import hashlib
import io
from functools import cache
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import get_template
from reportlab import rl_config
from xhtml2pdf import pisa

FONT_DIR = Path(__file__).resolve().parent / "fonts"
TEMPLATE_NAME = "certificates/certificate_pdf.html"


class RenderError(Exception):
    """xhtml2pdf reported errors while rendering."""


@cache
def template_version() -> str:
    """A short hash of the template and fonts: when it changes, issued PDFs are out of date."""
    digest = hashlib.sha256()
    digest.update(Path(get_template(TEMPLATE_NAME).origin.name).read_bytes())
    for font in sorted(FONT_DIR.glob("*.ttf")):
        digest.update(font.name.encode())
    return digest.hexdigest()[:12]


def _link_callback(uri: str, rel: str) -> str:
    # Only our own font files and inline data may be loaded; everything else is refused, so a name or
    # title can never make the renderer open a local file or a URL.
    if uri.startswith("data:image/png;base64,"):
        return uri
    if uri.startswith("fonts/"):
        path = (FONT_DIR / uri.removeprefix("fonts/")).resolve()
        if path.parent == FONT_DIR and path.suffix == ".ttf" and path.exists():
            return str(path)
    raise RenderError(f"resource not allowed in certificate template: {uri[:80]}")


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").png_data_uri(scale=4, border=2)


def render_pdf(*, learner_name: str, course_title: str, issued_on, display_code: str, verification_url: str) -> bytes:
    """Render the certificate and return the PDF bytes; raises RenderError when xhtml2pdf fails."""
    html = get_template(TEMPLATE_NAME).render(
        {
            "SITE_NAME": settings.SITE_NAME,
            "learner_name": learner_name,
            "course_title": course_title,
            "issued_on": issued_on,
            "display_code": display_code,
            "verification_url": verification_url,
            "qr": qr_data_uri(verification_url),
        }
    )
    out = io.BytesIO()
    previous, rl_config.invariant = rl_config.invariant, 1
    try:
        status = pisa.CreatePDF(html, dest=out, link_callback=_link_callback, encoding="utf-8")
    finally:
        rl_config.invariant = previous
    if status.err:
        raise RenderError(f"xhtml2pdf reported {status.err} error(s)")
    return out.getvalue()
