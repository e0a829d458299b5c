"""Words, sentences and blocks of text, in any language.

`terms` is the one analyzer everything that compares words goes through (the index, queries,
the extractive responder, the router): the language is detected when not given, and that
language's analyzer is used (`knowledge.analysis`).

Section text, as loaders write it, is blocks separated by blank lines: paragraphs, lists (one
item a line, '- ' or '1. '), and code blocks fenced with ``` that keep their own lines.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import regex

from parley_bot.knowledge.analysis import analyzer
from parley_bot.knowledge.languages import language_of

# Abbreviations whose full stop ends no sentence: letters with inner dots ('e.g.', 'z.B.',
# 'т.е.'), and the common short ones written without them.
_ABBREVIATION = (
    r"\b(?:\p{L}{1,3}\.\p{L}{1,3}\.|(?i:eg|ie|etc|vs|cf|ca|approx|incl|usw|bzw|resp|mr|mrs|ms|dr"
    r"|prof|st|no|nr|fig|vol|pp?|ch|sec|art)\.)"
)
# Where a sentence ends, one alternative a line:
#  - a sentence terminator of any script (Unicode's Sentence_Terminal: . ! ? । ؟ ። ။ …), maybe
#    closing quotes or brackets, then whitespace, then anything but a lowercase letter: 'morgen.
#    Über' and 'late? 30 days' split, 'e.g. this' and 'vital. école' do not;
#  - the full-width terminators 。！？．, which need no space after them, unless a closing
#    quote or bracket follows (「はい。」 stays whole);
#  - a blank line; a line break before a list item ('- ', '* ', '• ', '1. ').
_SENTENCE = regex.compile(
    r"(?<=\p{Sentence_Terminal}[\"'”’»)\]]*)(?<!" + _ABBREVIATION + r")\s+(?=[^\s\p{Ll}])"
    r"|(?<=[。！？．｡])(?![」』）〉》】\"”’])\s*"
    r"|\n{2,}"
    r"|\n(?=[ \t]*(?:[-*•]|\d+[.)])\s)"
)
_FENCE = regex.compile(r"^[ \t]*(```|~~~)")
_ITEM = regex.compile(r"^[ \t]*(?:[-*•]|\d+[.)])\s")
_NO_SPACE = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_SPACED_WORD = regex.compile(
    r"[^\s\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]+")

_NUMBERING = regex.compile(r"^\s*(?:\d+|[A-Z]|[IVXLC]+)(?:\.\d+)*\.?\s+")

BlockKind = Literal["prose", "list", "code"]
# A query with fewer letters is read in every language of the index, not only the detected one.
SHORT_QUERY = 16
_LETTER = regex.compile(r"\p{L}")


@dataclass(frozen=True)
class Block:
    """A paragraph, a list or a code block of a section."""

    kind: BlockKind
    text: str


def terms(text: str, language: str | None = None) -> list[str]:
    """The index terms of `text`, in order, repeats kept (BM25 counts them).

    Args:
        text: any text.
        language: its language code; detected from the text when None.
    """
    return analyzer(language or language_of(text)).terms(text)


def content_terms(text: str, language: str | None = None) -> set[str]:
    """The subject words of `text`: its terms without question, filler and stop words."""
    chosen = analyzer(language or language_of(text))
    return set(chosen.terms(text)) - chosen.filler


def query_terms(text: str, languages: Collection[str | None]) -> list[str]:
    """The terms of a query against texts in `languages` (those of an index), without its
    question and filler words ('how', 'can', 'I') unless nothing else is left.

    The query's own language decides when it is one of them; when it is unclear, not among
    them, or the query too short to trust a detector with ('zwroty?' looks English to one),
    the query is read in each of them too.
    """
    own = language_of(text)
    clear = own is not None and own in languages and len(_LETTER.findall(text)) >= SHORT_QUERY
    readings = [own] if not languages or clear else [own, *languages]
    ordered: list[str] = []
    filler: set[str] = set()
    for i, language in enumerate(readings):
        reading = analyzer(language)
        new = reading.terms(text)
        ordered.extend(new if i == 0 else [t for t in new if t not in ordered])
        filler |= reading.filler
    subject = [t for t in ordered if t not in filler]
    return subject or ordered


def prevailing(languages: list[str | None]) -> list[str | None]:
    """`languages` with each unknown one (None) replaced by the most frequent known one: a
    text too short to tell is most likely in the language of the texts around it."""
    known = [language for language in languages if language is not None]
    if not known:
        return languages
    usual = max(set(known), key=known.count)
    return [language or usual for language in languages]


def sentences(text: str) -> list[str]:
    """Split prose into sentences and list items, dropping empty pieces."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def quotable(block: Block) -> list[str]:
    """The pieces an answer quotes a block in: a code block whole, a list's items (one a line,
    nested ones too), a paragraph's sentences."""
    if block.kind == "code":
        return [block.text]
    if block.kind == "list":
        return [line for line in block.text.split("\n") if line.strip()]
    return sentences(block.text)


def blocks(text: str) -> list[Block]:
    """The blocks of a section's text: code fences kept whole, blank lines between others."""
    found: list[Block] = []
    lines: list[str] = []
    fence: str | None = None

    def close(kind: BlockKind | None = None) -> None:
        body = "\n".join(lines).strip("\n")
        if body.strip():
            is_list = all(_ITEM.match(line) or line.startswith((" ", "\t"))
                          for line in body.splitlines())
            found.append(Block(kind or ("list" if is_list else "prose"), body))
        lines.clear()

    for line in text.split("\n"):
        opening = _FENCE.match(line)
        if fence is None and opening:
            close()
            fence = opening.group(1)
            lines.append(line)
        elif fence is not None:
            lines.append(line)
            if line.strip().startswith(fence) and len(lines) > 1:
                close("code")
                fence = None
        elif not line.strip():
            close()
        else:
            lines.append(line)
    close("code" if fence is not None else None)
    return found


def unnumbered(heading: str) -> str:
    """A heading without its section number ('2.7.7. Setting Default Options' → 'Setting
    Default Options'; also 'A.1', 'IV.')."""
    return str(_NUMBERING.sub("", heading))


def measure(text: str) -> int:
    """About how many words `text` has: words between spaces, and one for every two
    characters of a script written without them (Chinese, Japanese, Thai, ...)."""
    if text.isascii():
        return len(text.split())
    return len(_SPACED_WORD.findall(text)) + math.ceil(len(_NO_SPACE.findall(text)) / 2)
