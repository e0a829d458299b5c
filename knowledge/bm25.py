"""The default index: BM25 over chunk text with `bm25s` (sparse matrices, no heavy dependency).

k1=0.9, b=0.4 are Pyserini's defaults, the variant with the best published BEIR figures.
Source filters use bm25s' `weight_mask`, so a filtered query costs the same as an open one.
Each text is analysed in its own language; the index remembers which languages it holds, so a
query is read in its own language when the index has it, and in the index's otherwise
(`text.query_terms`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from parley_bot.knowledge.analysis import analyzer
from parley_bot.knowledge.languages import language_of
from parley_bot.knowledge.text import prevailing, query_terms

K1, B = 0.9, 0.4

# bm25s sets its logger to DEBUG when imported, which floods every CLI command.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class Bm25Index:
    """BM25 over a fixed list of texts; rebuilt whole (it takes about a second for 5,000 docs)."""

    def __init__(
        self, retriever: bm25s.BM25, size: int, languages: Sequence[str | None] = ()
    ) -> None:
        self._retriever = retriever
        self.size = size
        self.languages = tuple(languages)
        """The languages of the indexed texts, most frequent first."""

    @classmethod
    def build(cls, texts: list[str], languages: Sequence[str | None] | None = None) -> Bm25Index:
        """Index `texts`; result positions are indexes into this list.

        Args:
            texts: what to search.
            languages: each text's language; detected from the text when not given.
        """
        if languages is None:
            languages = prevailing([language_of(t) for t in texts])
        return cls.from_terms([analyzer(lang).terms(t) for t, lang in zip(texts, languages,
                                                                            strict=True)],
                              languages)

    @classmethod
    def from_terms(cls, corpus: list[list[str]], languages: Sequence[str | None]) -> Bm25Index:
        """Index texts already analysed (see `analysis.Analyzer.terms`), one list each."""
        retriever = bm25s.BM25(k1=K1, b=B)
        if corpus:  # bm25s needs at least one token per document
            retriever.index([t or ["\u2205"] for t in corpus], show_progress=False)
        counts: dict[str | None, int] = {}
        for language in languages:
            counts[language] = counts.get(language, 0) + 1
        return cls(retriever, len(corpus), sorted(counts, key=lambda lang: -counts[lang]))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top `k` (position, score) pairs with a positive score, best first.

        Args:
            query: free text.
            k: how many results at most.
            mask: optional 0/1 weight per document; 0 excludes it.
        """
        if self.size == 0:
            return []
        tokens = [t for t in query_terms(query, self.languages) if t in self._vocab]
        if not tokens:
            return []
        docs, scores = self._retriever.retrieve(
            [tokens], k=min(k, self.size), show_progress=False, weight_mask=mask, n_threads=0
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def idf(self, term: str) -> float:
        """The term's inverse document frequency in this index (Lucene's formula, as bm25s
        scores with); 0 for a term no text holds, which tells no passage from another."""
        position = self._vocab.get(term)
        if position is None:
            return 0.0
        frequency = int(self._frequencies[position])
        return float(np.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5)))

    @property
    def _frequencies(self) -> np.ndarray:
        cached: np.ndarray | None = getattr(self, "_df", None)
        if cached is None:
            matrix = self._retriever.scores
            indptr = np.asarray(matrix["indptr"])
            cached = self._df = np.diff(indptr)  # per term, how many documents hold it
        return cached

    @property
    def _vocab(self) -> dict[str, int]:
        return self._retriever.vocab_dict  # type: ignore[no-any-return]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "size").write_text(str(self.size))
        (folder / "languages.json").write_text(json.dumps(self.languages))
        if self.size:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> Bm25Index:
        size = int((folder / "size").read_text())
        languages = json.loads((folder / "languages.json").read_text())
        if not size:
            return cls(bm25s.BM25(k1=K1, b=B), 0, languages)
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(retriever, size, languages)
