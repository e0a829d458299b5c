"""One analyzer for everything that compares words: the BM25 index, the router, the extractive
responder. Lower-case word tokens, English stop words removed, Snowball-stemmed, so 'Returns'
and 'returning' meet."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN


def _lowercase_letters() -> str:
    """Every lowercase letter as character-class ranges ('a-z...'): `re` has no \\p{Ll}. All
    cased scripts lie below U+20000, so the scan stops there (about 10 ms, once)."""
    ranges: list[list[int]] = []
    for code in range(0x20000):
        if chr(code).islower():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "")
                   for a, b in ranges)


_WORD = re.compile(r"(?u)\b\w\w+\b")
# Where a sentence ends, one alternative a line:
#  - `.`, `!` or `?`, then whitespace, then anything but a lowercase letter of any script:
#    'morgen. Über' and 'late? 30 days' split, 'e.g. this' and 'vital. école' do not;
#  - the CJK terminators 。！？, which need no space after them, unless a closing quote
#    or bracket follows (「はい。」 stays whole);
#  - a blank line; a line break before a list item ('- ', '* ', '• ', '1. ').
_SENTENCE = re.compile(
    rf"(?<=[.!?])\s+(?=[^\s{_lowercase_letters()}])"
    r"|(?<=[。！？])(?![」』）〉》】\"”’])\s*"
    r"|\n{2,}"
    r"|\n(?=\s*(?:[-*•]|\d+\.)\s)"
)
_STOPWORDS = frozenset(STOPWORDS_EN)
_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def terms(text: str) -> list[str]:
    """The index terms of `text`, in order, repeats kept (BM25 counts them)."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


def sentences(text: str) -> list[str]:
    """Split prose into sentences and list items, dropping empty pieces."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


# Words that shape a question but say nothing about its subject ('how long can I ...').
_QUESTION_WORDS = frozenset(terms(
    "how what when where which who whom whose why do does did can could would should will shall "
    "may might must have has had get got need want much many long tell know please hi hello hey "
    "thanks thank is are was were am be been ok okay yes no there here"
))


def content_terms(text: str) -> set[str]:
    """The subject words of `text`: its index terms without question and filler words."""
    return set(terms(text)) - _QUESTION_WORDS
