"""Parsers for office formats: PDF (`pypdf`, one section per page) and Word .docx
(`python-docx`, one section per heading). Both follow the `loaders.Parser` shape:
raw bytes and a name in, title and sections out.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator

import docx
from docx.styles.style import CharacterStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader
from pypdf.errors import DependencyError, PdfReadError

from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge.outline import Outline, Parsed, title_from_name
from parley_bot.knowledge.types import Section

log = logging.getLogger(__name__)

_HEADING_STYLE = re.compile(r"^heading ([1-9])$", re.IGNORECASE)
_HYPHENATED = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_SPACES = re.compile(r"[ \t\u00a0]+")


def parse_pdf(data: bytes, name: str) -> Parsed:
    """One section per page that has text, numbered from 1, anchored `page=N` (the PDF
    open parameter, so `file.pdf#page=3` opens on that page in a browser).

    Raises:
        KnowledgeError: not a PDF, damaged, encrypted with a password, or no text at all
            (a scan needs OCR first).
    """
    if b"%PDF-" not in data[:1024]:
        raise KnowledgeError(f"{name}: not a PDF file (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeError(f"{name}: encrypted PDF that needs a password")
        pages = list(reader.pages)
    except DependencyError as exc:
        raise KnowledgeError(
            f"{name}: encrypted PDF; reading it needs: pip install cryptography"
        ) from exc
    except PdfReadError as exc:
        raise KnowledgeError(f"{name}: not a readable PDF ({exc})") from exc
    sections = []
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text()
        except Exception as exc:  # one damaged page should not cost the others
            log.warning("%s: page %d: cannot extract text (%s)", name, number, exc)
            continue
        text = _SPACES.sub(" ", _HYPHENATED.sub("", text)).strip()
        if text:
            sections.append(Section(text=text, page=number, anchor=f"page={number}"))
    if not sections:
        raise KnowledgeError(
            f"{name}: no extractable text in {len(pages)} page(s) (a scan? it needs OCR first)"
        )
    return _pdf_title(reader) or title_from_name(name), sections


def _pdf_title(reader: PdfReader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, TypeError):
        return ""
    return " ".join(title.split()) if isinstance(title, str) else ""


def parse_docx(data: bytes, name: str) -> Parsed:
    """Sections at every paragraph styled Heading 1-9 (or a style based on one), with
    paragraphs, list items and table rows (cells joined by ' | ') as their text. The title is
    the first Title-styled paragraph, else the first Heading 1, else the document properties.

    Raises:
        KnowledgeError: not a .docx file (an old binary .doc must be saved as .docx first).
    """
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise KnowledgeError(f"{name}: not a readable .docx file ({exc})") from exc
    outline = Outline()
    title = first_h1 = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in _table_rows(block):
                outline.add(row)
            continue
        style = block.style.name if block.style is not None else ""
        text = block.text.strip()
        level = _heading_level(block)
        if style == "Title" and text:
            title = title or " ".join(text.split())
        elif level is not None:
            first_h1 = first_h1 or (text if level == 1 else "")
            outline.heading(level, text)
        elif text:
            outline.add(f"- {text}" if (style or "").startswith("List") else text)
    core_title = (document.core_properties.title or "").strip()
    return title or first_h1 or core_title or title_from_name(name), outline.finish()


def _heading_level(paragraph: Paragraph) -> int | None:
    """1-9 for a Heading style or a custom style based on one, else None."""
    style: CharacterStyle | None = paragraph.style
    for _ in range(5):  # custom styles chain to the built-in ones through base_style
        if style is None:
            return None
        match = _HEADING_STYLE.match(style.name or "")
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


def _table_rows(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            yield " | ".join(cells)
