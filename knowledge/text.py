"""One analyzer for everything that compares words: the BM25 index, the router, the extractive
responder. Lower-case word tokens, English stop words removed, Snowball-stemmed, so 'Returns'
and 'returning' meet."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"(?u)\b\w\w+\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n{2,}|\n(?=\s*(?:[-*•]|\d+\.)\s)")
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
