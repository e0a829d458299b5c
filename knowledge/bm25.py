"""The default index: BM25 over chunk text with `bm25s` (sparse matrices, no heavy dependency).

k1=0.9, b=0.4 are Pyserini's defaults, the variant with the best published BEIR figures.
Source filters use bm25s' `weight_mask`, so a filtered query costs the same as an open one.
"""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from parley_bot.knowledge.text import terms

K1, B = 0.9, 0.4

# bm25s sets its logger to DEBUG when imported, which floods every CLI command.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class Bm25Index:
    """BM25 over a fixed list of texts; rebuilt whole (it takes about a second for 5,000 docs)."""

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> Bm25Index:
        """Index `texts`; result positions are indexes into this list."""
        retriever = bm25s.BM25(k1=K1, b=B)
        corpus = [terms(t) or ["\u2205"] for t in texts]  # bm25s needs at least one token per doc
        if texts:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, len(texts))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top `k` (position, score) pairs with a positive score, best first.

        Args:
            query: free text.
            k: how many results at most.
            mask: optional 0/1 weight per document; 0 excludes it.
        """
        if self.size == 0:
            return []
        tokens = [t for t in terms(query) if t in self._vocab]
        if not tokens:
            return []
        docs, scores = self._retriever.retrieve(
            [tokens], k=min(k, self.size), show_progress=False, weight_mask=mask, n_threads=0
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    @property
    def _vocab(self) -> dict[str, int]:
        return self._retriever.vocab_dict  # type: ignore[no-any-return]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "size").write_text(str(self.size))
        if self.size:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> Bm25Index:
        size = int((folder / "size").read_text())
        if not size:
            return cls(bm25s.BM25(k1=K1, b=B), 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0), size)
