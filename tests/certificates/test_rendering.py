"""The learner's name on the certificate PDF: whole, in order, on the page, in a font that draws it."""

import io
from datetime import date

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFont

from certificates.rendering import FONT_DIR, render_pdf

PAGE_WIDTH_PT = 842  # A4 landscape
MARGIN_PT = 34  # @page margin: 1.2cm
BOLD = TTFont("TestBold", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
REGULAR = TTFont("TestRegular", str(FONT_DIR / "DejaVuSans.ttf"))


def render(name: str) -> bytes:
    return render_pdf(
        learner_name=name,
        course_title="Python für Anfänger",
        issued_on=date(2026, 1, 1),
        display_code="ABCD-EFGH",
        verification_url="https://lms.example.com/verify/ABCD-EFGH/",
    )


def text_runs(content: bytes) -> list[tuple[str, float, float, str]]:
    """(text, x, font size, font) of each run of text on the PDF's pages, as a PDF reader places it."""
    runs = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            font = str(font_dict.get("/BaseFont", "")) if font_dict else ""
            runs.append((text.strip(), cm[4] + tm[4], font_size, font))

    for page in PdfReader(io.BytesIO(content)).pages:
        page.extract_text(visitor_text=visit)
    return runs


def name_runs(content: bytes) -> list[tuple[str, float, float, str]]:
    """The runs between "This certifies that" and "has completed the course": the name's lines."""
    runs = text_runs(content)
    texts = [run[0] for run in runs]
    return runs[texts.index("This certifies that") + 1 : texts.index("has completed the course")]


def assert_on_the_page(runs) -> None:
    for text, x, size, font in runs:
        width = (BOLD if font.endswith("Bold") else REGULAR).stringWidth(text, size)
        assert x >= MARGIN_PT and x + width <= PAGE_WIDTH_PT - MARGIN_PT, (text, x, width)


LONG_NAME = " ".join(["Maximilian-Alexander"] * 6)  # 125 characters with spaces
UNBROKEN = "W" * 120  # the widest letter, no space to break at


def test_a_short_name_is_printed_large_on_one_line():
    [(text, _x, size, font)] = name_runs(render("Zoë Łukasiewicz-Ørsted"))
    assert (text, size) == ("Zoë Łukasiewicz-Ørsted", 30) and font.endswith("DejaVuSans-Bold")


@pytest.mark.parametrize("name", [LONG_NAME, UNBROKEN], ids=["words", "one-word"])
def test_a_long_name_stays_on_one_page_whole_and_in_order(name):
    content = render(name)

    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    runs = name_runs(content)
    assert_on_the_page(runs)
    assert "".join(text for text, *_ in runs).replace(" ", "") == name.replace(" ", "")
    assert all(size >= 12 for _text, _x, size, _font in runs)


def test_a_name_with_a_right_to_left_override_prints_in_order_not_reversed():
    # Stored before names were normalised (a certificate keeps the name it was issued with).
    runs = name_runs(render("\u202eAnn\u200b Smith\u2066"))
    assert [text for text, *_ in runs] == ["Ann Smith"]


def test_latin_greek_cyrillic_and_accents_print_and_emoji_are_left_out_not_boxes():
    name = "Zoë 🎓 Δημήτρης Иван Łukasiewicz-Ørsted 👩\u200d🎓\ufe0f"

    [(text, *_)] = name_runs(render(name))

    assert text == "Zoë Δημήτρης Иван Łukasiewicz-Ørsted"


def test_a_letter_the_font_lacks_prints_as_a_visible_replacement_character(caplog):
    [(text, *_)] = name_runs(render("Li 李"))

    assert text == "Li \ufffd"
    assert "no glyph for '李'" in caplog.text
