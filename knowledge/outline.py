"""Heading bookkeeping shared by every parser that finds structure (Markdown, Word, HTML):
feed blocks of text and headings in document order, get one `Section` per heading."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge.types import Section

Parsed = tuple[str, list[Section]]
"""What a parser returns: the document's title and its sections."""
Parser = Callable[[bytes, str], Parsed]
"""A parser: raw bytes and the file name in, `Parsed` out."""


def decode(data: bytes, name: str) -> str:
    """A text file's bytes as text: UTF-8, with or without a byte-order mark.

    Raises:
        KnowledgeError: the bytes are not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{name}: not UTF-8 text") from exc


def slug(heading: str) -> str:
    """GitHub-style anchor of a heading: 'Time limits' → 'time-limits'."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-")


def title_from_name(name: str) -> str:
    """A title for a document that has none: 'store-hours.md' → 'Store hours'."""
    return Path(name).stem.replace("-", " ").replace("_", " ").strip().capitalize()


class Outline:
    """Collects text blocks under the current heading path and cuts a Section at each heading."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._path: list[tuple[int, str, str]] = []  # (level, heading, anchor)
        self._blocks: list[str] = []

    def heading(self, level: int, text: str, anchor: str | None = None) -> None:
        """Start a section under `text`, closing every open heading of `level` or deeper."""
        text = " ".join(text.split())
        if not text:
            return
        self._flush()
        self._path = [h for h in self._path if h[0] < level]
        self._path.append((level, text, anchor or slug(text)))

    def close(self, level: int) -> None:
        """End the sections of headings of `level` or deeper: what follows belongs to the
        heading above them (the text after a list of defined terms)."""
        if any(h[0] >= level for h in self._path):
            self._flush()
            self._path = [h for h in self._path if h[0] < level]

    def add(self, text: str) -> None:
        """Add a paragraph (or list item, table row) to the current section."""
        text = text.strip()
        if text:
            self._blocks.append(text)

    def finish(self) -> list[Section]:
        """The sections, in document order; sections without text are left out."""
        self._flush()
        return self.sections

    def _flush(self) -> None:
        if self._blocks:
            self.sections.append(Section(
                text="\n\n".join(self._blocks),
                heading_path=tuple(h for _, h, _ in self._path),
                anchor=self._path[-1][2] if self._path else None,
            ))
        self._blocks = []
