"""Long replies cut into parts a platform accepts (WhatsApp and SMS: 1,600 characters).

A cut falls between paragraphs when it can, else between lines, then sentences, then words;
only a single word longer than the limit is cut inside. Parts keep their order, and joined
back with the separators they were cut at they give the text again (less edge whitespace).
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

_LEVELS: tuple[regex.Pattern[str], ...] = (
    regex.compile(r"\n[ \t]*\n\s*"),  # paragraphs
    regex.compile(r"\n\s*"),  # lines (list items)
    # sentences: after a terminal and its closing quotes, at spaces (or none, after '。')
    regex.compile(r"(?<=\p{Sentence_Terminal}[\"'”’)\]]*)\s+|(?<=[。！？])(?=\S)"),
    regex.compile(r"\s+"),  # words
)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at the widest boundary that fits.

    Args:
        text: the reply, usually formatted for the channel already.
        limit: the most characters one part may hold.

    Returns:
        The parts in order; none for a blank text.

    Raises:
        ValueError: `limit` is not positive.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    parts: list[str] = []
    current = ""
    for separator, piece in _pieces(text.strip(), limit, 0, ""):
        joined = f"{current}{separator}{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    return [*parts, current] if current else parts


def _pieces(text: str, limit: int, level: int, before: str) -> Iterator[tuple[str, str]]:
    """(separator before it, piece) pairs, each piece at most `limit` long, in order."""
    if len(text) <= limit:
        yield before, text
        return
    if level == len(_LEVELS):  # one word longer than a part: cut it where it must be
        for start in range(0, len(text), limit):
            yield before if start == 0 else "", text[start:start + limit]
        return
    separator, start = before, 0
    for match in _LEVELS[level].finditer(text):
        yield from _pieces(text[start:match.start()], limit, level + 1, separator)
        separator, start = match.group(), match.end()
    yield from _pieces(text[start:], limit, level + 1, separator)
