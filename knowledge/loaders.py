"""Turn files into `Document`s: title plus sections, each section under its heading path.

One parser per file type, chosen by suffix whatever its case (`README.MD` is Markdown). A
parser takes the raw bytes and the file name and returns the title and sections; `load_file`
adds the source, uri and content hash.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge.markdown import parse_markdown
from parley_bot.knowledge.outline import Parsed, Parser, decode, title_from_name
from parley_bot.knowledge.types import Document, Section, content_hash


def parse_text(data: bytes, name: str) -> Parsed:
    """Plain text is one section; paragraphs survive as blank lines for the sentence splitter."""
    text = decode(data, name).strip()
    return title_from_name(name), [Section(text=text)] if text else []


def _lazy(module: str, function: str) -> Parser:
    """A parser from another module, imported on first use: the PDF, Word and HTML libraries
    load only when such a file turns up (and those modules can import helpers from here)."""

    def parse(data: bytes, name: str) -> Parsed:
        parser: Parser = getattr(importlib.import_module(module), function)
        return parser(data, name)

    return parse


PARSERS: dict[str, Parser] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".rst": _lazy("parley_bot.knowledge.rst", "parse_rst"),
    ".rest": _lazy("parley_bot.knowledge.rst", "parse_rst"),
    ".html": _lazy("parley_bot.knowledge.html", "parse_html"),
    ".htm": _lazy("parley_bot.knowledge.html", "parse_html"),
    ".pdf": _lazy("parley_bot.knowledge.formats", "parse_pdf"),
    ".docx": _lazy("parley_bot.knowledge.formats", "parse_docx"),
}


def load_file(path: Path, source: str, uri: str) -> Document:
    """Read and parse one file.

    Args:
        path: the file on disk.
        source: the knowledge source name it belongs to (used by skill filters).
        uri: how citations name it, usually its path relative to the source folder.

    Raises:
        KnowledgeError: unreadable, unsupported, or empty once parsed.
    """
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        raise KnowledgeError(f"{uri}: unsupported file type {path.suffix!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"{uri}: cannot read ({exc.strerror})") from exc
    return parse_bytes(data, parser, source, uri)


def parse_bytes(data: bytes, parser: Parser, source: str, uri: str) -> Document:
    """Build a Document from raw bytes with `parser`, refusing documents with no text."""
    try:
        title, sections = parser(data, uri)
    except KnowledgeError:
        raise
    except Exception as exc:  # a parser library's own error on a broken file
        raise KnowledgeError(f"{uri}: cannot parse ({type(exc).__name__}: {exc})") from exc
    if not sections:
        raise KnowledgeError(f"{uri}: no text found (empty file?)")
    return Document(source=source, uri=uri, title=title, sections=tuple(sections),
                    content_hash=content_hash(data))
