"""Builders for the knowledge tests: real PDF (fpdf2), Word (python-docx) and HTML files."""

from __future__ import annotations

import io

import docx
from fpdf import FPDF


def pdf_bytes(pages: list[str], title: str | None = None) -> bytes:
    """A PDF with one page per string, and `title` in its metadata when given."""
    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def docx_bytes(blocks: list[tuple[str, str]], core_title: str | None = None) -> bytes:
    """A .docx from (style, text) pairs: 'Title', 'Heading N', 'List Bullet', 'Normal', or
    'table' whose text is rows split by ';' and cells by ','."""
    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    for style, text in blocks:
        if style == "table":
            rows = [row.split(",") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html_page(title: str, main: str, *, charset: str = "utf-8") -> str:
    """A page with the chrome real sites have around `main`: header, nav, aside, footer,
    scripts, styles, a cookie form and hidden text."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="{charset}"><title>{title}</title>
<style>body {{ font-family: sans-serif }} .promo {{ color: red }}</style>
<script>window.trackingSecret = "analytics-snippet";</script></head>
<body>
<header class="site"><a href="/">Acme Outfitters</a>
  <nav><a href="/">Home</a> <a href="/catalog">Catalogue menu</a> <a href="/blog">Blog</a></nav>
</header>
<aside>Sidebar promotion: tents half price this week</aside>
<main>
{main}
<div hidden>Hidden preview text</div>
<form><label>Subscribe to newsletter</label><button>Sign up</button></form>
</main>
<footer>Copyright Acme Outfitters, privacy policy, terms of service</footer>
<script>console.log("footer script")</script>
</body></html>"""


CHROME_WORDS = ["Catalogue menu", "Sidebar promotion", "Copyright", "analytics-snippet",
                "font-family", "Hidden preview", "newsletter", "footer script", "Blog"]
