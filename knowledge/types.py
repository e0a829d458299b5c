"""The shapes that flow through the knowledge pipeline: document → sections → chunks → passages."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A run of text under one heading (or on one page) of a document."""

    model_config = ConfigDict(frozen=True)

    text: str
    heading_path: tuple[str, ...] = ()
    anchor: str | None = None
    page: int | None = None


class Document(BaseModel):
    """One loaded file or web page, split at its headings/pages but not yet chunked."""

    model_config = ConfigDict(frozen=True)

    source: str
    uri: str
    title: str
    sections: tuple[Section, ...]
    content_hash: str


class Chunk(BaseModel):
    """A retrievable piece of a document, carrying everything a citation needs."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    uri: str
    title: str
    text: str
    heading_path: tuple[str, ...] = ()
    anchor: str | None = None
    page: int | None = None
    language: str | None = None
    """The language its section is written in (a code such as 'en'); None when unclear."""

    @property
    def location(self) -> str:
        """Where in the document the chunk is, for a citation: 'Returns › Time limits', 'p. 3'."""
        parts = [" › ".join(self.heading_path)] if self.heading_path else []
        if self.page is not None:
            parts.append(f"p. {self.page}")
        return ", ".join(parts)

    @property
    def searchable(self) -> str:
        """The text the index sees: title and headings weigh in, as they do for a reader."""
        return " ".join([self.title, *self.heading_path, self.text])


class Passage(BaseModel):
    """A chunk retrieved for a query, with its score (higher is better)."""

    model_config = ConfigDict(frozen=True)

    chunk: Chunk
    score: float


def content_hash(data: bytes) -> str:
    """Stable fingerprint of a file's bytes; a changed hash is what triggers re-indexing."""
    return hashlib.sha256(data).hexdigest()
