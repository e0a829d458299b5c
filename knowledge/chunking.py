"""Cut documents into chunks that stay inside one section and end at sentence boundaries.

Sizes are counted in words (`text.measure`: close enough to tokens for budgeting, in any
script, and free of any tokenizer). A chunk keeps its section's blocks as they were written:
sentences of a paragraph on one line, list items one a line, code blocks whole with their line
breaks, blank lines between blocks. A sentence, item or code block longer than the whole budget
is cut at word (or line) boundaries rather than dropped.

Each section's language is detected here (or taken from flows.yaml when it pins one), so a
folder of English and Polish files, or one file with a section in each, is analysed with the
right stemmer part by part.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from parley_bot.knowledge.languages import language_of
from parley_bot.knowledge.text import Block, blocks, measure, prevailing, quotable
from parley_bot.knowledge.types import Chunk, Document, Section


@dataclass(frozen=True)
class _Piece:
    """A sentence, list item or code block; `block` numbers the block it comes from."""

    text: str
    block: int
    joiner: str  # what goes between it and the previous piece of the same block
    size: int


def chunk_document(
    document: Document, size: int, overlap: int, languages: Collection[str] | None = None
) -> list[Chunk]:
    """Split `document` into chunks of at most `size` words, `overlap` words shared between
    neighbours of the same section.

    Args:
        document: a loaded document; chunks never cross its section boundaries.
        size: the most words in one chunk.
        overlap: words (whole sentences, up to this many) repeated at the start of the next chunk.
        languages: the languages to choose from when detecting each section's (None: any).

    Returns:
        The chunks in document order.
    """
    chunks: list[Chunk] = []
    found = prevailing([language_of(s.text, languages) for s in document.sections])
    for section, language in zip(document.sections, found, strict=True):
        for text in _pack(_pieces(blocks(section.text), size), size, overlap):
            chunks.append(_chunk(document, section, text, len(chunks), language))
    return chunks


def _pieces(found: list[Block], size: int) -> Iterator[_Piece]:
    """Each block's sentences, items or whole code, anything longer than `size` cut up."""
    for number, block in enumerate(found):
        joiner = " " if block.kind == "prose" else "\n"
        for unit in quotable(block):
            for part in _split(unit, size, by_line=block.kind == "code"):
                yield _Piece(part, number, joiner, measure(part))


def _split(text: str, size: int, by_line: bool) -> Iterator[str]:
    """`text` in parts of at most `size` words: at line breaks (code), at spaces, or for
    scripts written without spaces, every `2 * size` characters."""
    if measure(text) <= size:
        yield text
        return
    if by_line:
        lines = text.split("\n")
        step = max(1, len(lines) * size // measure(text))
        for start in range(0, len(lines), step):
            yield "\n".join(lines[start:start + step])
        return
    words = text.split()
    if len(words) > 1:
        step = max(1, len(words) * size // measure(text))
        for start in range(0, len(words), step):
            yield " ".join(words[start:start + step])
        return
    for start in range(0, len(text), 2 * size):
        yield text[start:start + 2 * size]


def _pack(pieces: Iterator[_Piece], size: int, overlap: int) -> Iterator[str]:
    current: list[_Piece] = []
    count = 0
    for piece in pieces:
        if current and count + piece.size > size:
            yield _join(current)
            current, count = _tail(current, overlap)
            if count + piece.size > size:
                current, count = [], 0
        current.append(piece)
        count += piece.size
    if current:
        yield _join(current)


def _join(pieces: list[_Piece]) -> str:
    """Pieces of one block joined by their block's joiner, blocks by a blank line."""
    out = [pieces[0].text]
    for before, piece in itertools.pairwise(pieces):
        out.append((piece.joiner if piece.block == before.block else "\n\n") + piece.text)
    return "".join(out)


def _tail(pieces: list[_Piece], overlap: int) -> tuple[list[_Piece], int]:
    """The last whole pieces of a chunk that fit in `overlap` words."""
    kept: list[_Piece] = []
    count = 0
    for piece in reversed(pieces):
        if count + piece.size > overlap:
            break
        kept.insert(0, piece)
        count += piece.size
    return kept, count


def _chunk(
    document: Document, section: Section, text: str, ordinal: int, language: str | None
) -> Chunk:
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
        language=language,
    )
