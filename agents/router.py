"""The route node: which skill a message is for, or none, with no model call when sure.

A linear classifier (scikit-learn's LinearSVC) is fitted when the bot loads, on each skill's
examples plus its name and description: TF-IDF over words and word pairs, and over character
2-5-grams, which carry typos, word forms and other languages. With `router.embeddings` it
also sees the sentence embedding of each text (parley-bot[embeddings]). Its confidence is the
winning skill's margin: positive when that skill's side of the boundary holds the message.

Below `threshold` the message goes to no skill; the graph then tries the general answer from
every document, and only then says it is out of scope. Just above it, in the `ambiguous`
band, an optional router model picks among the best candidates or none. One skill gets no
classifier: its confidence is the nearest example's similarity; no skills route nothing.

The threshold, unless flows.yaml sets one, is calibrated at load time from the skills' own
examples (`calibrated_threshold`): a margin depends on how many examples there are and how
alike they are, so no one constant fits a bot with 5 skills and one with 150.

On CLINC150 (150 skills, bench/routing.py): words and characters reach an in-scope accuracy
of 0.908 at an out-of-scope recall of 0.769 with the calibrated threshold (-0.336; the one
chosen on `val` is -0.334), against a ceiling of 0.911 at 0.75 recall for any threshold on
this margin, so more needs better features than n-grams (embeddings). A message is scored on
the fitted vectorizers and classifier directly (`_Tfidf`): 0.2-0.4 ms, against 4 ms through
sklearn's own transform in the same run (busy 2-core machine); calibration about doubles the
fit time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from parley_bot.agents.config import RouterConfig
from parley_bot.agents.errors import MissingExtraError
from parley_bot.agents.skills import SkillBase

log = logging.getLogger("parley.router")

THRESHOLD = 0.2
"""Confidence a skill needs when there are too few examples to calibrate (a margin)."""
MISS_RATE = 0.025
"""Share of in-scope messages the calibrated threshold may turn away: α of a split-conformal
rule. Chosen on CLINC150's `val` split (never `test`) and kept for every bot."""
FOLDS = 5
"""Each calibration fit leaves out every FOLDS-th example of each skill."""
ENOUGH = 1000
"""Held-out examples after which no further calibration fit is made (the fits cost time)."""
SIMILARITY_THRESHOLD = 0.3
"""Default for a bot with one skill: the similarity of the nearest example."""
CANDIDATES = 3  # skills the router model chooses among

Decision = Literal["classifier", "model", "follow-up", "none"]


@dataclass(frozen=True)
class Routing:
    """Where a message goes and how sure the router is."""

    skill: str | None
    confidence: float
    by: Decision
    candidates: tuple[str, ...] = ()
    """The best skills, best first."""


class SkillRouter:
    """Routes messages among the skills of one bot; fitted once, when the bot loads."""

    def __init__(self, skills: Sequence[SkillBase], settings: RouterConfig | None = None,
                 model: BaseChatModel | None = None,
                 redact: Callable[[str], str] | None = None) -> None:
        """Fit the router.

        Args:
            skills: the bot's skills.
            settings: flows.yaml's `router:`.
            model: the router model, if any.
            redact: applied to the message before the router model sees it.
        """
        settings = settings or RouterConfig()
        self._skills = {skill.name: skill for skill in skills}
        self._model = model
        self._redact = redact
        self._ambiguous = settings.ambiguous
        texts, owners = _training_texts(skills)
        self._owners = np.array(owners, dtype=object)
        self._features = _features()
        self._embedder = _embedder(settings.embeddings) if len(skills) > 1 else None
        self._classifier: LinearSVC | None = None
        if len(skills) == 0:
            self.threshold = settings.threshold if settings.threshold is not None else THRESHOLD
            return
        matrix = self._matrix(texts)
        self._tfidf = _Tfidf(self._features)
        if len(skills) == 1:
            self._examples = matrix.tocsc()  # a query selects columns
            default = SIMILARITY_THRESHOLD
        else:
            self._classifier = _classifier().fit(matrix, owners)
            self._coef = np.asarray(self._classifier.coef_)
            self._intercept = np.asarray(self._classifier.intercept_)
            default = THRESHOLD
            if settings.threshold is None:
                default = calibrated_threshold(matrix, self._owners) or THRESHOLD
        self.threshold = settings.threshold if settings.threshold is not None else default

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Every skill with its confidence for `text`, best first."""
        if not self._skills:
            return []
        columns, values = self._query(text)
        if self._classifier is None:  # two unit-length parts
            similarity = float((self._examples[:, columns] @ values).max()) / 2
            return [(next(iter(self._skills)), similarity)]
        # LinearSVC.decision_function, on the query's non-zero columns only
        margins = self._coef[:, columns] @ values + self._intercept
        if len(margins) == 1:  # two skills: one margin, positive for the second
            margins = np.array([-margins[0], margins[0]])
        order = np.argsort(-margins)
        classes = self._classifier.classes_
        return [(str(classes[i]), float(margins[i])) for i in order]

    def route(self, text: str) -> Routing:
        """The classifier's decision alone (no model call)."""
        ranked = self.scores(text)
        if not ranked:
            return Routing(None, 0.0, "none")
        best, confidence = ranked[0]
        candidates = tuple(name for name, _ in ranked[:CANDIDATES])
        if confidence < self.threshold:
            return Routing(None, confidence, "none", candidates)
        return Routing(best, confidence, "classifier", candidates)

    async def aroute(self, text: str) -> Routing:
        """`route`, with the router model deciding inside the ambiguous band."""
        if self._embedder is None:  # TF-IDF alone takes less time than a hop to a thread
            routing = self.route(text)
        else:  # a sentence embedding: ~20 ms of CPU, off the event loop
            routing = await asyncio.to_thread(self.route, text)
        ambiguous = self.threshold <= routing.confidence < self.threshold + self._ambiguous
        if self._model is None or not ambiguous:
            return routing
        try:
            choice = await self._ask(text, routing.candidates)
        except Exception as exc:  # the classifier's decision stands
            log.warning("router model failed, keeping the classifier's choice: %s", exc)
            return routing
        return Routing(choice, routing.confidence, "model", routing.candidates)

    async def _ask(self, text: str, candidates: tuple[str, ...]) -> str | None:
        assert self._model is not None
        listing = "\n".join(f"- {name}: {self._skills[name].description or name}"
                            for name in candidates)
        answer = await self._model.ainvoke([
            SystemMessage("Pick the skill that should handle the user's message. Reply with "
                          "the skill's name only, or 'none' if no skill fits.\n\nSkills:\n"
                          + listing),
            HumanMessage(self._redact(text) if self._redact else text),
        ])
        reply = str(answer.text).strip().strip("'\"`.").lower()
        return next((name for name in candidates if name.lower() == reply), None)

    def _matrix(self, texts: Sequence[str]) -> Any:
        """The features of the training texts, fitting the vectorizers."""
        words = self._features.fit_transform(texts)
        if self._embedder is None:
            return words
        return hstack([words, csr_matrix(self._embedder.encode(texts))]).tocsr()

    def _query(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The features of one message as its non-zero columns and their values."""
        columns, values = self._tfidf(text)
        if self._embedder is None:
            return columns, values
        embedding = self._embedder.encode([text])[0]
        start = self._tfidf.width
        return (np.concatenate([columns, np.arange(start, start + len(embedding))]),
                np.concatenate([values, embedding]))


class _Tfidf:
    """The fitted TF-IDF parts' vector of one text, as sklearn's transform gives it (sublinear
    tf, each part of unit length), without its input validation and sparse matrices: those
    were most of a route's time, for a text of a few words."""

    def __init__(self, features: FeatureUnion) -> None:
        self._parts: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]] = []
        self.width = 0
        for _, part in features.transformer_list:
            self._parts.append((part.build_analyzer(), part.vocabulary_, part.idf_, self.width))
            self.width += len(part.vocabulary_)

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        columns, values = [], []
        for analyze, vocabulary, idf, offset in self._parts:
            counts = Counter(i for term in analyze(text) if (i := vocabulary.get(term)) is not None)
            if not counts:
                continue
            found = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = 1 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            weights = tf * idf[found]
            columns.append(found + offset)
            values.append(weights / np.linalg.norm(weights))
        if not columns:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)


def _training_texts(skills: Sequence[SkillBase]) -> tuple[list[str], list[str]]:
    texts, owners = [], []
    for skill in skills:
        described = f"{skill.name.replace('_', ' ').replace('-', ' ')} {skill.description}"
        for text in [*skill.examples, described.strip()]:
            texts.append(text)
            owners.append(skill.name)
    return texts, owners


def calibrated_threshold(matrix: Any, owners: np.ndarray) -> float | None:
    """The margin that all but MISS_RATE of in-scope messages reach, or None with too few
    examples to tell (fewer than 1/MISS_RATE routed right).

    Split-conformal: classifiers fitted without every FOLDS-th example of each skill score
    those examples; the threshold is the MISS_RATE quantile of the margins of the ones they
    route right (a wrong route is an error whatever the threshold). It needs no out-of-scope
    examples, which a bot never has."""
    position = np.zeros(len(owners), dtype=int)
    for name in dict.fromkeys(owners):
        mine = owners == name
        position[mine] = np.arange(int(mine.sum()))
    margins: list[np.ndarray] = []
    for fold in range(FOLDS):
        held = position % FOLDS == fold
        if not held.any() or len(set(owners[~held])) < 2:
            continue
        classifier = _classifier().fit(matrix[~held], owners[~held])
        scores = np.atleast_2d(classifier.decision_function(matrix[held]))
        if len(classifier.classes_) == 2:  # one margin, positive for the second
            scores = np.column_stack([-scores.ravel(), scores.ravel()])
        right = classifier.classes_[scores.argmax(axis=1)] == owners[held]
        margins.append(scores.max(axis=1)[right])
        if sum(map(len, margins)) >= ENOUGH:
            break
    ranked = np.sort(np.concatenate(margins)) if margins else np.array([])
    rank = int(np.floor(MISS_RATE * (len(ranked) + 1)))  # conformal rank, 1-based
    return float(ranked[rank - 1]) if rank >= 1 else None


def _classifier() -> LinearSVC:
    return LinearSVC(C=1.0)


def _features() -> FeatureUnion:
    """Words and word pairs, and character 2-5-grams inside word bounds; each part has unit
    length, so neither drowns the other."""
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
    ])


def _embedder(setting: str) -> Any:
    """The sentence embedder when `setting` asks for it (and, for 'auto', it is installed)."""
    if setting == "off":
        return None
    from parley_bot.knowledge.dense import default_embedder

    embedder = default_embedder()
    try:
        embedder.encode(["warm-up"])
    except MissingExtraError:
        if setting == "on":
            raise
        return None
    return embedder
