"""Certificate PDFs: a Django template rendered by xhtml2pdf with a Unicode font and a QR code.

Output is byte-for-byte reproducible for the same content (reportlab's invariant mode fixes the
timestamps and document ids), so a regeneration changes the file hash only when the content changes.
"""

import hashlib
import io
import logging
import unicodedata
from functools import cache
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import get_template
from reportlab import rl_config
from reportlab.pdfbase.ttfonts import TTFont
from xhtml2pdf import pisa

from accounts.names import normalize_name

logger = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
TEMPLATE_NAME = "certificates/certificate_pdf.html"
NAME_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"  # the face the name is printed in (class "name")
# The name's font size: the largest of these at which it fits on one line of the frame (about 690 pt
# wide on A4 landscape; a little is kept in hand). A name too long even at the smallest size wraps
# onto a second or third line, and a "word" wider than a line is broken (overflow-wrap: break-word).
NAME_SIZES_PT = (30, 26, 22, 18, 15, 12)
NAME_LINE_PT = 660
# What stands for a letter the font has no glyph for (a script DejaVu does not cover, such as CJK).
MISSING_LETTER = "\ufffd"


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


@cache
def _name_font() -> TTFont:
    return TTFont("CertificateName", str(NAME_FONT))


def printable_name(name: str) -> str:
    """`name` as the certificate prints it, with only characters its font can draw.

    Normalised first (certificates store the name they were issued with, perhaps before names were
    normalised: no bidi override may reverse it). Then, for a character DejaVu has no glyph for: a
    symbol (emoji, which DejaVu lacks, and their modifiers and variation selectors) is left out, since
    it would print as an empty box; a letter or digit is printed as U+FFFD, so the gap is visible, and
    logged. The certificate page and the verification page show the name as stored.
    """
    covered = _name_font().face.charToGlyph
    kept, missing = [], []
    for char in normalize_name(name):
        if 0xFE00 <= ord(char) <= 0xFE0F or 0xE0100 <= ord(char) <= 0xE01EF:
            continue  # variation selectors: emoji or text presentation, which a PDF in DejaVu has no use for
        if ord(char) in covered or char.isspace():
            kept.append(char)
        elif unicodedata.category(char)[0] in "LN":
            kept.append(MISSING_LETTER)
            missing.append(char)
    if missing:
        logger.warning("certificate name %r: no glyph for %r", name, "".join(missing))
    return " ".join("".join(kept).split())


def name_font_size(name: str) -> int:
    """The largest of NAME_SIZES_PT at which `name` fits on one line (the smallest if none does)."""
    font = _name_font()
    return next((size for size in NAME_SIZES_PT if font.stringWidth(name, size) <= NAME_LINE_PT), NAME_SIZES_PT[-1])


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").png_data_uri(scale=4, border=2)


def render_pdf(*, learner_name: str, course_title: str, issued_on, display_code: str, verification_url: str) -> bytes:
    """Render the certificate and return the PDF bytes; raises RenderError when xhtml2pdf fails."""
    learner_name = printable_name(learner_name)
    html = get_template(TEMPLATE_NAME).render(
        {
            "SITE_NAME": settings.SITE_NAME,
            "learner_name": learner_name,
            "name_size": name_font_size(learner_name),
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
