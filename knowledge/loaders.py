"""Turn files into `Document`s: title plus sections, each section under its heading path.

One parser per file type, chosen by suffix. A parser takes the raw bytes and the file name and
returns the title and sections; `load_file` adds the source, uri and content hash.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge.outline import Outline, Parsed, Parser, title_from_name
from parley_bot.knowledge.types import Document, Section, content_hash

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def parse_markdown(data: bytes, name: str) -> Parsed:
    """Sections at every heading, paragraphs kept apart; the first level-1 heading is the
    title. Headings inside fenced code blocks are code, not structure."""
    title = ""
    outline = Outline()
    paragraph: list[str] = []
    in_fence = False
    for line in [*_decode(data, name).splitlines(), ""]:
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None and (line.strip() or in_fence):
            paragraph.append(line)
            continue
        outline.add("\n".join(paragraph))
        paragraph = []
        if match is not None:
            level, heading = len(match.group(1)), match.group(2)
            title = title or (heading if level == 1 else "")
            outline.heading(level, heading)
    return title or title_from_name(name), outline.finish()


def parse_text(data: bytes, name: str) -> Parsed:
    """Plain text is one section; paragraphs survive as blank lines for the sentence splitter."""
    text = _decode(data, name).strip()
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


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{name}: not UTF-8 text") from exc
