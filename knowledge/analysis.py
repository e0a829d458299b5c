"""Text into index terms, one analyzer per language: what every word comparison in parley
uses (the BM25 index, queries, the extractive responder, the router).

Segmentation follows the script, so it never depends on a guess: words of letters and digits
where words are written apart; jieba's dictionary (through jieba-rs, `rjieba`: the same cuts
as jieba, loaded in 0.2 s instead of 2 s) for Han text; overlapping character pairs for the
scripts written without spaces that no dictionary here covers (Japanese kana, Thai, Lao,
Khmer, Myanmar, Hangul), the usual fallback of search engines for them. Code identifiers stay
whole (`--track-origins`, `fs.rm`, `C#`, `C++`) and also give their parts, so 'track origins'
finds `--track-origins` too; one-character words are kept.

Normalization follows the language: Unicode NFKC and full case folding (with Turkish and
Azerbaijani dotted and dotless i, so 'İstanbul' folds to 'istanbul', never 'i̇stanbul' or
'stanbul'), the language's stop words, then its Snowball stemmer (PyStemmer, about 30
languages). A language without a stemmer is matched on whole words.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cached_property, lru_cache

import bm25s.stopwords as bm25s_stopwords
import regex
import rjieba
import Stemmer
import stopwordsiso

# Snowball stemmers by language code.
_STEMMERS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech",
    "da": "danish", "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
    "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "fa": "persian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "st": "sesotho", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish",
    "yi": "yiddish",
}
# Stop words of the index: the short lists bm25s ships (English: Lucene's 33 words, which
# BEIR's BM25 figures use). Other languages keep every word in the index.
_INDEX_STOPWORDS = {
    "en": bm25s_stopwords.STOPWORDS_EN, "zh": bm25s_stopwords.STOPWORDS_CHINESE,
    "da": bm25s_stopwords.STOPWORDS_DANISH, "nl": bm25s_stopwords.STOPWORDS_DUTCH,
    "fr": bm25s_stopwords.STOPWORDS_FRENCH, "de": bm25s_stopwords.STOPWORDS_GERMAN,
    "it": bm25s_stopwords.STOPWORDS_ITALIAN, "ko": bm25s_stopwords.STOPWORDS_KOREAN,
    "no": bm25s_stopwords.STOPWORDS_NORWEGIAN, "pt": bm25s_stopwords.STOPWORDS_PORTUGUESE,
    "ru": bm25s_stopwords.STOPWORDS_RUSSIAN, "es": bm25s_stopwords.STOPWORDS_SPANISH,
    "sv": bm25s_stopwords.STOPWORDS_SWEDISH, "tr": bm25s_stopwords.STOPWORDS_TURKISH,
}
# Words that shape an English question but say nothing about its subject ('how long can I').
# Other languages take stopwords-iso's list (58 languages), which holds the same kind of words;
# its English list is too broad ('value', 'open', 'information').
_ENGLISH_FILLER = (
    "how what when where which who whom whose why do does did can could would should will shall "
    "may might must have has had get got need want much many long tell know please hi hello hey "
    "thanks thank is are was were am be been ok okay yes no there here i me my mine you your "
    "yours we us our a an the "
    "about for of on in to with from at by and or but if so than that this "
    "these those they them their any some just also still really don doesn didn isn aren wasn "
    "weren won wouldn couldn shouldn haven hasn hadn make use find under over "
    "while during change choose policy policies something anything everything nothing someone "
    "anyone everyone somebody anybody every each"
)

# English verbs whose past forms the Snowball stemmer cannot bring to their base ('shown' is
# not 'show'), each base with those forms. Forms that are also common nouns or names of their
# own ('bit', 'saw', 'left', 'led', 'sat', 'won') are left out.
_ENGLISH_IRREGULAR = """
arise arose arisen|become became|begin began begun|bend bent|blow blew blown|break broke broken
bring brought|build built|burn burnt|buy bought|catch caught|choose chose chosen|come came
creep crept|deal dealt|dig dug|do did done|draw drew drawn|drink drank drunk|drive drove driven
eat ate eaten|fall fell fallen|feed fed|fight fought|find found|flee fled|fly flew flown
forbid forbade forbidden|forget forgot forgotten|forgive forgave forgiven|freeze froze frozen
get got gotten|give gave given|go went gone|grow grew grown|hang hung|hide hid hidden|hold held
keep kept|know knew known|learn learnt|lend lent|lose lost|make made|mean meant|meet met
override overrode overridden|overwrite overwrote overwritten|pay paid|rewrite rewrote rewritten
ride rode ridden|ring rang rung|rise risen|run ran|say said|see seen|seek sought|sell sold
send sent|shake shook shaken|shine shone|show shown|shrink shrank shrunk|sing sang sung
sink sank sunk|sleep slept|slide slid|speak spoke spoken|spell spelt|spend spent|spin spun
stand stood|steal stole stolen|stick stuck|strike struck stricken|swear swore sworn|sweep swept
swim swam swum|swing swung|take took taken|teach taught|tear tore torn|tell told|think thought
throw threw thrown|understand understood|undo undid undone|wake woke woken|wear wore worn
weave wove woven|withdraw withdrew withdrawn|write wrote written
"""
_IRREGULAR = {"en": {form: base for verb in re.split(r"[|\n]", _ENGLISH_IRREGULAR.strip())
                     for base, *forms in [verb.split()] for form in forms}}

# Question words stopwords-iso's lists lack.
_MORE_FILLER = {"zh": "多久 多长时间 为什么 哪个 哪些 谁 何时 什么时候 如何 怎样 呢 请问"}

_NO_SPACE = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Hangul}ー"
_WORD_CHAR = rf"[[\p{{L}}\p{{M}}\p{{N}}]--[{_NO_SPACE}]]"
_JOINER = r"(?:[._\-'’/:=+]+|(?<=\p{N}),(?=\p{N}))"
_TOKEN = regex.compile(
    rf"(?P<cjk>[\p{{Han}}\p{{Hiragana}}\p{{Katakana}}ー]+)"
    rf"|(?P<pairs>[{_NO_SPACE}]+)"
    # a leading '--', '-' or '.' belongs to the word only where no word ends just before it
    rf"|(?P<word>(?:(?<!{_WORD_CHAR})(?:--?|\.)(?={_WORD_CHAR}))?"
    rf"{_WORD_CHAR}+(?:{_JOINER}{_WORD_CHAR}+)*(?:\+\+|\#)?(?!{_WORD_CHAR}))",
    regex.V1,
)
_ASCII_TOKEN = re.compile(
    r"(?:(?<![A-Za-z0-9])(?:--?|\.)(?=[A-Za-z0-9]))?[A-Za-z0-9]+"
    r"(?:(?:[._\-'/:=+]+|(?<=[0-9]),(?=[0-9]))[A-Za-z0-9]+)*(?:\+\+|#)?(?![A-Za-z0-9])"
)
_PART = regex.compile(rf"{_WORD_CHAR}+", regex.V1)
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_DIGITS = regex.compile(r"[\d,]+")
_APOSTROPHES = regex.compile(rf"{_WORD_CHAR}+(?:['’]{_WORD_CHAR}+)+", regex.V1)
_GRAPHEME = regex.compile(r"\X")


class Analyzer:
    """The index terms of texts in one language (None: no stemmer, no stop words)."""

    def __init__(self, language: str | None) -> None:
        self.language = language
        base = language.split("-")[0] if language else None
        self._turkic = base in {"tr", "az"}
        self._algorithm = _STEMMERS.get(base or "")
        self._local = threading.local()  # PyStemmer stemmers are not thread-safe
        self._stopwords = frozenset(self.fold(w) for w in _INDEX_STOPWORDS.get(base or "", ()))
        self._base = base
        self._irregular = _IRREGULAR.get(base or "", {})

    def fold(self, text: str) -> str:
        """NFKC and full case folding, Turkish i's folded the Turkish way."""
        text = unicodedata.normalize("NFKC", text)
        if self._turkic:
            text = text.replace("I", "ı").replace("İ", "i")
        return text.casefold().replace("i\u0307", "i")

    def terms(self, text: str) -> list[str]:
        """The index terms of `text`, in order, repeats kept (BM25 counts them)."""
        if text.isascii() and not self._turkic:  # the same tokens, by a faster pattern
            return [t for m in _ASCII_TOKEN.finditer(text.lower()) for t in self._word(m[0])]
        return list(self._terms(self.fold(text)))

    def _terms(self, text: str) -> Iterator[str]:
        for match in _TOKEN.finditer(text):
            kind, token = match.lastgroup, match.group()
            if kind == "cjk" and self._base != "ja" and not _KANA.search(token):
                yield from (w for w in rjieba.cut(token) if w not in self._stopwords)
            elif kind in {"cjk", "pairs"}:
                yield from _pairs(token)
            else:
                yield from self._word(token)

    def _word(self, token: str) -> Iterator[str]:
        if token.isalnum():  # the usual plain word: no regex needed
            if token not in self._stopwords:
                yield self.stem(token)
            return
        parts = _PART.findall(token)
        if len(parts) == 1 and parts[0] == token:
            if token not in self._stopwords:
                yield self.stem(token)
            return
        if not _APOSTROPHES.fullmatch(token):
            yield token  # an identifier stays whole ('--track-origins', 'fs.rm', 'c++')
        else:  # "don't", "customer's", "l'eau": a one-letter clitic says nothing
            parts = [part for part in parts if len(part) > 1]
        if _DIGITS.fullmatch(token):
            yield token.replace(",", "")  # '20,000,000' also as '20000000'
        for part in parts:
            if part not in self._stopwords:
                yield self.stem(part)

    def stem(self, word: str) -> str:
        """`word` (folded) by this language's Snowball stemmer, an irregular form ('shown')
        as its base ('show'); as is when there is none."""
        if self._algorithm is None:
            return word
        return _stem(self, self._irregular.get(word, word))

    def stemmer(self) -> Stemmer.Stemmer:
        stemmer: Stemmer.Stemmer | None = getattr(self._local, "stemmer", None)
        if stemmer is None:
            stemmer = self._local.stemmer = Stemmer.Stemmer(self._algorithm)
        return stemmer

    @cached_property
    def filler(self) -> frozenset[str]:
        """Terms that say nothing about what a question is about: stop words, question words,
        greetings ('how', 'wie', 'как', '什么')."""
        words: Iterable[str] = (_ENGLISH_FILLER.split() if self._base == "en"
                                else stopwordsiso.stopwords(self._base or "") or ())
        words = [*words, *_MORE_FILLER.get(self._base or "", "").split()]
        return frozenset(t for w in words for t in self.terms(w)) | self._stopwords


@lru_cache(maxsize=262144)
def _stem(analyzer: Analyzer, word: str) -> str:
    return str(analyzer.stemmer().stemWord(word))


def _pairs(run: str) -> Iterator[str]:
    """Overlapping pairs of characters (grapheme clusters: a Thai consonant with its vowel
    sign counts as one) of a run of text written without spaces."""
    chars = _GRAPHEME.findall(run)
    if len(chars) == 1:
        yield run
    for i in range(len(chars) - 1):
        yield chars[i] + chars[i + 1]


@lru_cache(maxsize=256)
def analyzer(language: str | None) -> Analyzer:
    """The analyzer of `language` (a code such as 'en', 'pt-BR'; None for none)."""
    return Analyzer(language)
