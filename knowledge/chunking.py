"""Cut documents into chunks that stay inside one section and end at sentence boundaries.

Sizes are counted in words: close enough to tokens for budgeting, and free of any tokenizer.
A sentence longer than the whole budget is split at word boundaries rather than dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from parley_bot.knowledge.text import sentences
from parley_bot.knowledge.types import Chunk, Document, Section


def chunk_document(document: Document, size: int, overlap: int) -> list[Chunk]:
    """Split `document` into chunks of at most `size` words, `overlap` words shared between
    neighbours of the same section.

    Args:
        document: a loaded document; chunks never cross its section boundaries.
        size: the most words in one chunk.
        overlap: words (whole sentences, up to this many) repeated at the start of the next chunk.

    Returns:
        The chunks in document order.
    """
    chunks: list[Chunk] = []
    for section in document.sections:
        for text in _pack(_pieces(section.text, size), size, overlap):
            chunks.append(_chunk(document, section, text, len(chunks)))
    return chunks


def _pieces(text: str, size: int) -> Iterator[list[str]]:
    """Sentences as word lists, any sentence longer than `size` cut into `size`-word parts."""
    for sentence in sentences(text):
        words = sentence.split()
        for start in range(0, len(words), size):
            yield words[start:start + size]


def _pack(pieces: Iterator[list[str]], size: int, overlap: int) -> Iterator[str]:
    current: list[list[str]] = []
    count = 0
    for piece in pieces:
        if current and count + len(piece) > size:
            yield " ".join(" ".join(p) for p in current)
            current, count = _tail(current, overlap)
            if count + len(piece) > size:
                current, count = [], 0
        current.append(piece)
        count += len(piece)
    if current:
        yield " ".join(" ".join(p) for p in current)


def _tail(pieces: list[list[str]], overlap: int) -> tuple[list[list[str]], int]:
    """The last whole sentences of a chunk that fit in `overlap` words."""
    kept: list[list[str]] = []
    count = 0
    for piece in reversed(pieces):
        if count + len(piece) > overlap:
            break
        kept.insert(0, piece)
        count += len(piece)
    return kept, count


def _chunk(document: Document, section: Section, text: str, ordinal: int) -> Chunk:
    """A chunk whose id is a hash of everything that places it. The source is part of it: two
    sources may hold the same file (`a/faq.md`, `b/faq.md`), and ids must stay unique."""
    place = [document.source, document.uri, *section.heading_path, str(ordinal), text]
    digest = hashlib.sha1("\0".join(place).encode()).hexdigest()[:20]
    return Chunk(
        id=digest,
        source=document.source,
        uri=document.uri,
        title=document.title,
        text=text,
        heading_path=section.heading_path,
        anchor=section.anchor,
        page=section.page,
    )
