"""PDF, Word and HTML parsing, from files the tests make with the real libraries."""

from __future__ import annotations

import io
import os
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from fpdf import FPDF

from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge.chunking import chunk_document
from parley_bot.knowledge.formats import parse_docx, parse_pdf
from parley_bot.knowledge.html import parse_html
from parley_bot.knowledge.loaders import PARSERS, load_file, parse_bytes
from parley_bot.knowledge.store import EmbeddedStore
from tests.knowledge.builders import CHROME_WORDS, docx_bytes, html_page, pdf_bytes

WARRANTY = [
    "Every Acme blender carries a two-year warranty against defects in materials.",
    "To claim the warranty, email the receipt and a photo of the serial number plate. "
    "Refurbished units are covered for ninety days.",
]


# --- PDF ----------------------------------------------------------------------------------


def test_pdf_has_one_section_per_page_with_page_numbers() -> None:
    title, sections = parse_pdf(pdf_bytes(WARRANTY, title="Warranty handbook"), "w.pdf")

    assert title == "Warranty handbook"
    assert [s.page for s in sections] == [1, 2]
    assert [s.anchor for s in sections] == ["page=1", "page=2"]
    assert "two-year warranty" in sections[0].text
    assert "serial number plate" in sections[1].text
    assert "serial number" not in sections[0].text


def test_pdf_without_metadata_title_is_named_after_the_file() -> None:
    title, _ = parse_pdf(pdf_bytes(["Some text."]), "care-guide.pdf")
    assert title == "Care guide"


def test_pdf_skips_pages_without_text() -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a page with a drawing only, as a scanned page would look
    pdf.add_page()
    pdf.multi_cell(0, 8, "Second page has words.")
    _, sections = parse_pdf(bytes(pdf.output()), "mixed.pdf")
    assert [s.page for s in sections] == [2]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (os.urandom(4096), "not a PDF file"),
        (pdf_bytes(WARRANTY)[:600], "not a readable PDF"),
    ],
    ids=["random-bytes", "truncated"],
)
def test_broken_pdf_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(KnowledgeError, match=reason):
        parse_pdf(data, "broken.pdf")


def test_password_protected_pdf_is_refused() -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Confidential price list.")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    with pytest.raises(KnowledgeError, match="encrypted PDF that needs a password"):
        parse_pdf(bytes(pdf.output()), "prices.pdf")


def test_pdf_with_only_an_owner_password_is_read() -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Printing is restricted but reading is not.")
    pdf.set_encryption(owner_password="owner")
    _, sections = parse_pdf(bytes(pdf.output()), "restricted.pdf")
    assert "reading is not" in sections[0].text


def test_pdf_without_any_text_is_refused() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    with pytest.raises(KnowledgeError, match="no extractable text in 1 page"):
        parse_pdf(bytes(pdf.output()), "scan.pdf")


# --- Word ---------------------------------------------------------------------------------

HANDBOOK = [
    ("Title", "Staff handbook"),
    ("Normal", "Read this before your first shift."),
    ("Heading 1", "Returns"),
    ("Normal", "Items can be returned within 30 days with a receipt."),
    ("Heading 2", "Time limits"),
    ("List Bullet", "Sale items: 14 days."),
    ("table", "Item,Days;Shoes,60"),
    ("Heading 3", "Holidays"),
    ("Normal", "Gifts bought in December can be returned until January 31."),
    ("Heading 1", "Shipping"),
    ("Normal", "Orders ship within two working days."),
]


def test_docx_sections_follow_the_headings() -> None:
    title, sections = parse_docx(docx_bytes(HANDBOOK), "handbook.docx")

    assert title == "Staff handbook"
    assert [s.heading_path for s in sections] == [
        (),
        ("Returns",),
        ("Returns", "Time limits"),
        ("Returns", "Time limits", "Holidays"),
        ("Shipping",),  # a Heading 1 closes the open Heading 2 and 3
    ]
    assert [s.anchor for s in sections] == [None, "returns", "time-limits", "holidays",
                                           "shipping"]
    limits = sections[2].text
    assert "- Sale items: 14 days." in limits
    assert "Item | Days" in limits and "Shoes | 60" in limits
    assert all("Staff handbook" not in s.text for s in sections)


def test_docx_title_falls_back_to_first_heading_then_properties_then_name() -> None:
    body = [("Normal", "Intro."), ("Heading 1", "Returns policy"), ("Normal", "30 days.")]
    assert parse_docx(docx_bytes(body, core_title="Old"), "x.docx")[0] == "Returns policy"
    plain = [("Normal", "Just text.")]
    assert parse_docx(docx_bytes(plain, core_title="From properties"), "x.docx")[0] == (
        "From properties"
    )
    assert parse_docx(docx_bytes(plain, core_title=""), "store-faq.docx")[0] == "Store faq"


def test_docx_style_based_on_a_heading_is_a_heading() -> None:
    document = docx.Document()
    custom = document.styles.add_style("Policy Heading", WD_STYLE_TYPE.PARAGRAPH)
    custom.base_style = document.styles["Heading 2"]
    document.add_paragraph("Exchanges", style="Policy Heading")
    document.add_paragraph("Swap sizes in any store.")
    out = io.BytesIO()
    document.save(out)
    _, sections = parse_docx(out.getvalue(), "x.docx")
    assert [s.heading_path for s in sections] == [("Exchanges",)]


def test_not_a_docx_is_refused() -> None:
    with pytest.raises(KnowledgeError, match=r"not a readable \.docx"):
        parse_docx(b"\xd0\xcf\x11\xe0 an old binary .doc", "old.docx")


# --- HTML ---------------------------------------------------------------------------------

HOURS = """
<header><h1>Store hours</h1><p>Updated weekly</p></header>
<nav class="toc">On this page: Holidays, Call us</nav>
<p>We are open <b>Monday</b> to Friday, 9 to 6.<br>Saturday 10 to 4.</p>
<section id="holidays"><h2>Holidays</h2><p>Closed on Christmas Day.</p>
  <ul><li>December 25</li><li><p>January 1</p></li></ul></section>
<h2 id="phone-line">Call us</h2><table><tr><th>Phone</th><td>555 0100</td></tr></table>
<h3><a name="late">After hours</a></h3><p>Leave a voicemail.</p>
<h2>Parking &amp; access</h2><p>Free parking behind the store.</p>
"""


def test_html_keeps_the_main_text_and_drops_the_chrome() -> None:
    title, sections = parse_html(html_page("Store hours | Acme", HOURS).encode(), "hours.html")

    assert title == "Store hours | Acme"
    text = "\n".join(s.text for s in sections)
    assert "We are open Monday to Friday, 9 to 6." in text
    assert "Updated weekly" in text  # a header inside <main> belongs to the content
    for word in [*CHROME_WORDS, "On this page"]:
        assert word not in text, word
    assert [(s.heading_path, s.anchor) for s in sections] == [
        (("Store hours",), "store-hours"),
        (("Store hours", "Holidays"), "holidays"),
        (("Store hours", "Call us"), "phone-line"),
        (("Store hours", "Call us", "After hours"), "late"),
        (("Store hours", "Parking & access"), "parking--access"),  # as GitHub slugs it
    ]
    assert sections[1].text == "Closed on Christmas Day.\n\n- December 25\n\n- January 1"
    assert "Phone | 555 0100" in sections[2].text


def test_html_without_main_uses_the_body_minus_page_header_and_footer() -> None:
    page = b"""<html><body><header>Site banner</header><nav>Menu</nav>
    <article><header><h1>Gift cards</h1></header><p>Gift cards never expire.</p>
    <footer>Posted in Help</footer></article>
    <article><h1>Second post</h1><p>Another article.</p></article>
    <footer>Site footer</footer></body></html>"""
    title, sections = parse_html(page, "blog.html")
    text = " ".join(s.text for s in sections)
    assert title == "Gift cards"  # no <title>: the first h1
    assert "Gift cards never expire." in text and "Posted in Help" in text
    assert "Another article." in text
    assert "Site banner" not in text and "Site footer" not in text and "Menu" not in text


def test_html_encoding_comes_from_the_meta_charset() -> None:
    page = html_page("Caf\u00e9", "<p>Cr\u00e8me br\u00fbl\u00e9e on Sundays.</p>",
                     charset="windows-1252").encode("cp1252")
    title, sections = parse_html(page, "menu.html")
    assert title == "Caf\u00e9"
    assert "Cr\u00e8me br\u00fbl\u00e9e" in sections[0].text


def test_html_of_chrome_only_has_no_text() -> None:
    page = html_page("Empty", "").encode()
    with pytest.raises(KnowledgeError, match=r"empty\.html: no text found"):
        parse_bytes(page, PARSERS[".html"], "docs", "empty.html")


# --- through the loader registry into retrieval -------------------------------------------


@pytest.fixture
def library(tmp_path: Path) -> EmbeddedStore:
    (tmp_path / "warranty.pdf").write_bytes(pdf_bytes(WARRANTY, title="Warranty handbook"))
    (tmp_path / "handbook.docx").write_bytes(docx_bytes(HANDBOOK))
    (tmp_path / "hours.html").write_text(html_page("Store hours", HOURS), encoding="utf-8")
    chunks = []
    for path in sorted(tmp_path.iterdir()):
        document = load_file(path, "docs", path.name)
        chunks.extend(chunk_document(document, size=60, overlap=10))
    return EmbeddedStore.build(chunks)


@pytest.mark.parametrize(
    ("query", "uri", "heading_path", "page"),
    [
        ("how do I claim a refurbished blender warranty", "warranty.pdf", (), 2),
        ("return sale items days", "handbook.docx", ("Returns", "Time limits"), None),
        ("December gifts return January", "handbook.docx",
         ("Returns", "Time limits", "Holidays"), None),
        ("closed christmas", "hours.html", ("Store hours", "Holidays"), None),
        ("where can I park", "hours.html", ("Store hours", "Parking & access"), None),
    ],
)
def test_retrieval_finds_the_chunk_and_its_citation(
    library: EmbeddedStore,
    query: str,
    uri: str,
    heading_path: tuple[str, ...],
    page: int | None,
) -> None:
    best = library.search(query, k=3)[0].chunk
    assert (best.uri, best.heading_path, best.page) == (uri, heading_path, page)


def test_chrome_words_are_not_retrievable(library: EmbeddedStore) -> None:
    for query in ["catalogue menu", "sidebar promotion tents", "privacy policy terms",
                  "newsletter subscribe"]:
        assert library.search(query, k=3) == [], query
