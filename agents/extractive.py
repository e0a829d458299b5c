"""The built-in responder: answers with the sentence of the documents that answers, and cites it.
No model, no network, no weights: the default for a new bot and the answer of last resort
when the configured models fail.

What a person would quote: the one sentence, list item or code block that best matches the
question (its rarer words weigh more), with just enough around it to stand alone: the
sentence before it when that one introduces it ('Use this command line:'), the term it
defines, the next sentence when it goes on about the same thing, the whole list when the
answer is a short list, the code a sentence announces; and the name a reference section
describes (`fs.rm(path)`, `--tool=<name>`), which is only in its heading. A section whose
headings hold the whole question is answered with its opening. Lists and code keep their
shape. A sentence is read under its headings: 'Standard shipping takes 3 to 5 days' under
'Delivery times' answers "how long does delivery take". A question asking for a number ('how
long', 'how many', 'when', 'jak długo', 'cuántos', 'kaç') is answered from a passage that
holds one, and the search's ranking counts by how far apart it puts passages,
not only by their order. A passage counts as relevant only when it holds enough of the
question's subject words (`MIN_COVERAGE`); when none does, the answer is empty and the bot
says its `fallback_answer`. Passages in the question's language are preferred when the
knowledge has the answer in it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

import regex

from parley_bot.agents.asking import (
    ASKS_NUMBER,
    NUMBER,
    asks_number,
    defining,
    place_heading,
    steps_heading,
)
from parley_bot.agents.models import Generation, OnDelta, Prompt
from parley_bot.channels.messages import Usage
from parley_bot.knowledge.analysis import Analyzer, analyzer
from parley_bot.knowledge.languages import language_of
from parley_bot.knowledge.text import blocks, measure, quotable, unnumbered
from parley_bot.knowledge.types import Passage

Weights = Callable[[str], float]
"""A term's weight: its IDF in the index (0 for a term no document holds)."""
_HYPHENATED = regex.compile(r"\p{L}+(?:-\p{L}+)+")
# Signs of code in a heading: calls, brackets, assignments, snake_case, `a.b`, `--option`.
_CODE_LIKE = regex.compile(r"[()\[\]<>=_]|::|->|\w\.\w|^-")

# A passage is relevant when it holds at least this much of the question (`_coverage`).
MIN_COVERAGE = 0.4
# Context is added around the answering sentence up to about this many words, from at most
# `WINDOW` units on either side; each word of it costs this much of the question's coverage.
CONTEXT_WORDS, WINDOW, LENGTH_COST = 80, 3, 0.15
# A list this short is quoted whole when one of its items answers.
SHORT_LIST_WORDS = 80
# A block this short without a full stop is a label or term for what follows it.
LABEL_WORDS = 12
# How much a passage's headings matching the question, its rank in the search, and a unit
# opening it add to how well the unit answers (its share of the question's weighted subject
# words, 0 to 1). Code counts for less: it is more often shown with an answer than one.
HEADING_SHARE, RANK_SHARE, OPENING_SHARE, CODE_SHARE = 0.5, 0.2, 0.05, 0.7
# A sentence is read under its headings ('Delivery times' › 'Standard shipping takes 3 to 5
# days'): this share of how well a unit answers counts the headings' words as its own.
SECTION_SHARE = 0.5
# A passage whose title and headings hold this share of the question is about it: it is
# answered with the opening of the passage.
ABOUT_SHARE = 0.99
# A question asking for a quantity, a time or a date ('how long', 'how many', 'when') is
# answered from a passage holding a number: one without any costs this much.
NUMBERLESS_COST = 0.6
# A passage whose own heading is shaped like the answer asked for ('Locations' for "where is
# your store", 'How to start a return' for "how do I return something") gains this much; so
# does a sentence saying what the term of "what is X?" is.
SHAPE_SHARE = 0.3


@dataclass(frozen=True)
class _Unit:
    """A sentence, list item or code block of a passage, in reading order."""

    text: str
    block: int
    kind: str  # "prose", "list" or "code"
    terms: frozenset[str]
    label: frozenset[str] = frozenset()
    """The terms of the label its block defines ('--num-callers=<number> [default: 12]')."""


class ExtractiveResponder:
    """Quote, don't invent: the answer is made of the passages' own sentences.

    Args:
        weights: how much each term counts (the index's IDF); every term counts the same
            without it.
    """

    name = "extractive"

    def __init__(self, weights: Weights | None = None) -> None:
        self._weights = weights

    async def generate(self, prompt: Prompt, on_delta: OnDelta) -> Generation:
        """Answer from `prompt.passages`; empty text means nothing relevant was found."""
        usage = Usage(model=self.name)
        relevant = self._relevant(prompt.question, prompt.passages, prompt.language)
        if not relevant:
            return Generation(text="", cited=(), usage=usage)
        best: tuple[float, int, list[_Unit], range] = (-1.0, 0, [], range(0))
        standing = _standing([prompt.passages[i] for i in relevant])
        numeric = asks_number(prompt.question, prompt.language)
        definition = defining(prompt.question)
        for index, rank in zip(relevant, standing, strict=True):
            chunk = prompt.passages[index].chunk
            words = analyzer(chunk.language)
            wanted = _wanted(prompt.question, words)
            above = frozenset(words.terms(" ".join([chunk.title, *chunk.heading_path])))
            headings = self._share(wanted, above)
            # What the whole passage says for itself: its headings, and the index's ranking.
            prior = HEADING_SHARE * headings + RANK_SHARE * rank
            units = _units(chunk.text, words)
            name = unnumbered(chunk.heading_path[-1]) if chunk.heading_path else ""
            if place_heading(prompt.question, name) or steps_heading(prompt.question, name):
                prior += SHAPE_SHARE
            # A passage with no number in its prose (nor in a name heading, which is quoted
            # with the answer) cannot answer a question asking for one; code's digits don't.
            if numeric and not (_names_a_thing(name) and NUMBER.search(name)) and not any(
                    u.kind != "code" and NUMBER.search(u.text) for u in units):
                prior -= NUMBERLESS_COST
            if headings >= ABOUT_SHARE:  # a section about the question: its opening answers
                opening = _opening(units)
                score = 1.0 + prior + OPENING_SHARE
                if score > best[0]:
                    best = (score, index, units, opening)
                continue
            for at, unit in enumerate(units):
                said = unit.terms | unit.label
                share = ((1 - SECTION_SHARE) * self._share(wanted, said)
                         + SECTION_SHARE * self._share(wanted, said | above)) * (
                    CODE_SHARE if unit.kind == "code" else 1.0)
                score = share + prior + (OPENING_SHARE if at == 0 else 0.0)
                if definition is not None and definition.search(unit.text):
                    score += SHAPE_SHARE
                if score > best[0]:
                    best = (score, index, units, range(at, at + 1))
        _, index, units, window = best
        if len(window) == 1:
            words = analyzer(prompt.passages[index].chunk.language)
            window = _continued(units, self._window(units, window[0],
                                                    _wanted(prompt.question, words)), words)
        text = _render(_context(units, window))
        chunk = prompt.passages[index].chunk
        name = unnumbered(chunk.heading_path[-1]) if chunk.heading_path else ""
        if _names_a_thing(name) and name.casefold() not in text.casefold():
            text = f"{name}\n\n{text}"  # what the answer is about: `fs.rm(path)`, `--tool`
        on_delta(text)
        return Generation(text=text, cited=(index,), usage=usage)

    def _window(self, units: list[_Unit], at: int, wanted: Wanted) -> range:
        """The run of units around `at` that covers the most of the question in the fewest
        words: a neighbour joins when what it adds to the answer is worth its length."""
        best, best_score = range(at, at + 1), -1.0
        for first in range(max(0, at - WINDOW), at + 1):
            for last in range(at, min(len(units), at + WINDOW + 1)):
                size = _words(units, range(first, last + 1))
                if last > first and size > CONTEXT_WORDS:
                    continue
                found = frozenset().union(*(u.terms for u in units[first:last + 1]))
                score = self._share(wanted, found) - LENGTH_COST * size / CONTEXT_WORDS
                if score > best_score:
                    best, best_score = range(first, last + 1), score
        return best

    def _relevant(self, question: str, passages: list[Passage],
                  language: str | None) -> list[int]:
        """Positions of the passages holding enough of the question's subject words (by
        weight), those in the question's language only when any of them is."""
        found = []
        for i, passage in enumerate(passages):
            words = analyzer(passage.chunk.language)
            wanted = _wanted(question, words)
            have = set(words.terms(passage.chunk.searchable))
            if wanted and self._coverage(wanted, have) >= MIN_COVERAGE:
                found.append(i)
        language = language or language_of(question)
        same = [i for i in found if passages[i].chunk.language == language]
        return same or found

    def _coverage(self, wanted: Wanted, have: set[str]) -> float:
        """How much of the question a passage holds: the mean of the share of its subject
        words and their weighted share. Words alone let one common word stand for a
        two-word question; weights alone let one rare word (or one no document holds) sink
        a question the passage plainly answers."""
        words = sum(wanted.values())
        return (sum(wanted[t] for t in wanted.keys() & have) / words
                + self._share(wanted, have)) / 2

    def _share(self, wanted: Wanted, found: set[str] | frozenset[str]) -> float:
        """The weighted share of `wanted` terms that `found` holds."""
        if not wanted:
            return 0.0
        total = sum(self._weight(t) * share for t, share in wanted.items())
        return sum(self._weight(t) * wanted[t] for t in wanted.keys() & found) / total

    def _weight(self, term: str) -> float:
        if self._weights is None:
            return 1.0
        return max(self._weights(term), 0.1)


Wanted = Mapping[str, float]
"""A question's subject terms, each with the share of a word it stands for: 1, or 1/n for
each of the n parts of a hyphenated word."""


@lru_cache(maxsize=1024)
def _wanted(question: str, words: Analyzer) -> Wanted:
    """The question's subject words, read as the passage's language reads them. A hyphenated
    word counts by its parts ('Huguenot-descended' is 'Huguenot' and 'descended'), which
    together weigh one word: 'non-zero' must not outweigh 'exit' in "exit with a non-zero
    code". The adjective of 'how big', 'how often' asks for a number: it is no subject word."""
    asked = ASKS_NUMBER.search(question)
    asking = set(words.terms(asked[0].split()[-1])) if asked and "how" in asked[0].lower() \
        else set()
    found = words.terms(question)
    shares: dict[str, float] = {}
    for term in filter(_HYPHENATED.fullmatch, found):
        parts = set(words.terms(term.replace("-", " ")))
        for part in parts:
            shares[part] = min(shares.get(part, 1.0), 1 / len(parts))
    for term in found:
        shares.setdefault(term, 1.0)
    return {t: share for t, share in shares.items()
            if t not in words.filler and t not in asking and not _HYPHENATED.fullmatch(t)}


def knows_about(question: str, passages: list[Passage]) -> bool:
    """Whether the documents know anything about `question`: a passage holds `MIN_COVERAGE`
    of its subject words, or two of them. This decides between the general answer and "out
    of scope", for a model as for the extractive responder; two shared words let a model
    answer "turn 12: tell me about the warranty on backpacks", where one ('like') would let
    in "what is the weather like on mars"."""
    for passage in passages:
        words = analyzer(passage.chunk.language)
        wanted = _wanted(question, words)
        shared = wanted.keys() & set(words.terms(passage.chunk.searchable))
        if wanted and (len(shared) / len(wanted) >= MIN_COVERAGE or len(shared) >= 2):
            return True
    return False


def _standing(passages: list[Passage]) -> list[float]:
    """How each passage stands in the search, 1 for the best: the mean of its rank's share
    (1, 1/2, 1/3 …) and its score relative to the best one's, so that two passages the index
    can hardly tell apart stand closer than their ranks say. By rank alone when the scores
    are not similarities best first (a vector store's distances)."""
    ranks = [1 / (1 + rank) for rank in range(len(passages))]
    scores = [p.score for p in passages]
    if scores and scores[-1] > 0 and all(a >= b for a, b in itertools.pairwise(scores)):
        return [(rank + score / scores[0]) / 2 for rank, score in zip(ranks, scores, strict=True)]
    return ranks


def _units(text: str, words: Analyzer) -> list[_Unit]:
    units: list[_Unit] = []
    label: frozenset[str] = frozenset()
    for number, block in enumerate(blocks(text)):
        parts = quotable(block)
        units.extend(_Unit(part, number, block.kind, frozenset(words.terms(part)), label)
                     for part in parts)
        last = units[-1] if units else None
        label = last.terms if last is not None and len(parts) == 1 and _label(last) \
            else frozenset()
    return units


def _context(units: list[_Unit], window: range) -> list[_Unit]:
    """The window of units that answers, with what a reader needs to understand it: the rest
    of a short list, the term a definition defines (with the definition's first sentence),
    the sentence that introduces a list or code block, and the code a sentence introduces."""
    chosen = set(window)
    for at in window:
        answer = units[at]
        block = [i for i, u in enumerate(units) if u.block == answer.block]
        if answer.kind == "list" and _words(units, block) <= SHORT_LIST_WORDS:
            chosen.update(block)
        start = block[0]
        if start > 0 and _label(units[start - 1]) and units[start - 1].block != answer.block:
            chosen.update(range(start - 1, at))
    first, last = min(chosen), max(chosen)
    if first > 0 and (_introduces(units[first - 1]) or units[first].kind == "code"):
        chosen.add(first - 1)
    if last + 1 < len(units) and _introduces(units[last]) and (
            units[last + 1].kind == "code" or units[last + 1].kind == "list"):
        following = [i for i, u in enumerate(units) if u.block == units[last + 1].block]
        if units[last + 1].kind == "code" or _words(units, following) <= SHORT_LIST_WORDS:
            chosen.update(following)
    return [units[i] for i in sorted(chosen)]


def _continued(units: list[_Unit], window: range, words: Analyzer) -> range:
    """`window` and the sentence after it, when that one goes on about the same thing (shares
    a subject word with it) and fits: the sentence that matches a question often only sets up
    the one that answers it ('Holden's announcement occurred in May 2013')."""
    after = window.stop
    if after >= len(units) or units[after].block != units[after - 1].block:
        return window
    said = frozenset().union(*(units[i].terms for i in window)) - words.filler
    fits = _words(units, range(window.start, after + 1)) <= CONTEXT_WORDS
    return range(window.start, after + 1) if fits and said & units[after].terms else window


def _opening(units: list[_Unit]) -> range:
    """The first units of a passage, as many as fit in `CONTEXT_WORDS` (at least one)."""
    end = 1
    while end < len(units) and _words(units, range(end + 1)) <= CONTEXT_WORDS:
        end += 1
    return range(end)


def _words(units: list[_Unit], positions: Collection[int]) -> int:
    return sum(measure(units[i].text) for i in positions)


def _names_a_thing(heading: str) -> bool:
    """A heading that is the name of a thing (a function, an option, a setting) rather than a
    title: the answer says what it is about by quoting it first."""
    return bool(_CODE_LIKE.search(heading)) or (heading.islower() and " " not in heading)


def _introduces(unit: _Unit) -> bool:
    """A sentence that announces what follows ('Use this command line:')."""
    return unit.kind != "code" and unit.text.rstrip().endswith((":", "："))


def _label(unit: _Unit) -> bool:
    """A short line naming what the next block is about (a term, an option)."""
    return (unit.kind == "prose" and measure(unit.text) <= LABEL_WORDS
            and not unit.text.rstrip().endswith((".", "!", "?", "。", "！", "？")))


def _render(units: list[_Unit]) -> str:
    """Units joined as the document had them: sentences by a space, items by a line break,
    blocks by a blank line."""
    out = [units[0].text]
    for before, unit in itertools.pairwise(units):
        if unit.block != before.block:
            out.append("\n\n")
        elif unit.kind == "list":
            out.append("\n")
        else:
            out.append(" ")
        out.append(unit.text)
    return "".join(out)
