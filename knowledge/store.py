"""Retrieval behind one small interface, so the embedded index can be swapped for a real
vector database when a bot outgrows one machine.

`KnowledgeStore` is the seam: anything with `search(query, k, sources)` returning passages
works. `EmbeddedStore` (BM25 over the local index, fused with dense vectors when the bot says
`retriever: hybrid`) is the default; `VectorStoreKnowledge`
wraps any LangChain `VectorStore` (pgvector, Qdrant, Redis, …) whose documents carry the
chunk fields in their metadata, as `chunk_metadata` writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import numpy as np
from langchain_core.vectorstores import VectorStore

from parley_bot.knowledge.analysis import analyzer
from parley_bot.knowledge.bm25 import Bm25Index
from parley_bot.knowledge.dense import FUSION_DEPTH, DenseIndex, fuse
from parley_bot.knowledge.text import unnumbered
from parley_bot.knowledge.types import Chunk, Passage


@runtime_checkable
class KnowledgeStore(Protocol):
    """What the bot needs from a knowledge index."""

    def search(self, query: str, k: int, sources: frozenset[str] | None = None) -> list[Passage]:
        """The `k` passages most relevant to `query`, best first, from `sources` only
        (all sources when None). An empty list means nothing relevant is known."""
        ...


HEADING_WEIGHT = 2


@runtime_checkable
class TermWeights(Protocol):
    """A store that can say how telling a term is (the extractive responder weighs by it)."""

    def idf(self, term: str) -> float:
        """The term's inverse document frequency; 0 when no chunk holds it (it can tell no
        passage from another: 'abroad' in "do you ship abroad" must not sink the passage
        that says where the shop ships)."""
        ...


class EmbeddedStore:
    """BM25 over chunks held in memory; the default, offline, dependency-light store.

    With a `DenseIndex` (one vector per chunk, same order) it is a hybrid: the BM25 and dense
    rankings, each `FUSION_DEPTH` deep, are merged by `dense.fuse`.
    """

    def __init__(
        self, chunks: Sequence[Chunk], bm25: Bm25Index, dense: DenseIndex | None = None
    ) -> None:
        self.chunks = list(chunks)
        self._bm25 = bm25
        self._dense = dense
        self._source_of = np.array([c.source for c in self.chunks], dtype=object)
        self._mask = lru_cache(maxsize=64)(self._build_mask)

    @classmethod
    def build(cls, chunks: Sequence[Chunk], dense: DenseIndex | None = None) -> EmbeddedStore:
        """A store over `chunks`, indexing them for BM25 now.

        Args:
            chunks: what to search, in the order `dense` (if any) has their vectors.
            dense: their vectors, for a hybrid store.
        """
        corpus = [index_terms(c) for c in chunks]
        return cls(chunks, Bm25Index.from_terms(corpus, [c.language for c in chunks]), dense)

    def search(self, query: str, k: int, sources: frozenset[str] | None = None) -> list[Passage]:
        mask = None if sources is None else self._mask(sources)
        if self._dense is None:
            hits = self._bm25.search(query, k, mask)
        else:
            depth = max(k, FUSION_DEPTH)
            hits = fuse([self._bm25.search(query, depth, mask),
                         self._dense.search(query, depth, mask)], k)
        return [Passage(chunk=self.chunks[i], score=s) for i, s in hits]

    def idf(self, term: str) -> float:
        return self._bm25.idf(term)

    def _build_mask(self, sources: frozenset[str]) -> np.ndarray:
        return np.isin(self._source_of, list(sources)).astype(np.float32)

    @property
    def bm25(self) -> Bm25Index:
        return self._bm25

    @property
    def dense(self) -> DenseIndex | None:
        return self._dense


def index_terms(chunk: Chunk) -> list[str]:
    """What BM25 sees of a chunk: its own heading `HEADING_WEIGHT` times, the title and the
    headings above it once, then its text, in the chunk's language. A section's heading says
    what it is about (an FAQ's headings are its questions, a reference's are the names it
    explains), so a word there counts for more than one in passing."""
    words = analyzer(chunk.language)
    *above, own = [chunk.title, *(unnumbered(h) for h in chunk.heading_path)]
    context = [h for h in dict.fromkeys(above) if h != own]
    return (words.terms("\n".join(context)) + words.terms(own) * HEADING_WEIGHT
            + words.terms(chunk.text))


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """The metadata to store beside a chunk's text in an external vector store."""
    return chunk.model_dump(exclude={"text"}, mode="json")


class VectorStoreKnowledge:
    """Adapter: a LangChain `VectorStore` as a `KnowledgeStore`.

    Load it with `store.add_texts([c.text ...], metadatas=[chunk_metadata(c) ...])`. Each store
    spells metadata filters its own way, so `source_filter` builds that store's filter from a
    set of source names (pgvector: `lambda s: {"source": {"$in": sorted(s)}}`); without it the
    adapter over-fetches and filters the results itself. Passages keep the store's order and
    its own score (a similarity for some stores, a distance for others).
    """

    def __init__(
        self, store: VectorStore, source_filter: Callable[[frozenset[str]], Any] | None = None
    ) -> None:
        self._store = store
        self._source_filter = source_filter

    def search(self, query: str, k: int, sources: frozenset[str] | None = None) -> list[Passage]:
        kwargs: dict[str, Any] = {}
        fetch = k
        if sources is not None and self._source_filter is not None:
            kwargs["filter"] = self._source_filter(sources)
        elif sources is not None:
            fetch = k * 4
        results = self._store.similarity_search_with_score(query, k=fetch, **kwargs)
        passages = []
        for document, score in results:
            meta = dict(document.metadata)
            if sources is not None and meta.get("source") not in sources:
                continue
            meta["heading_path"] = tuple(meta.get("heading_path") or ())
            passages.append(Passage(chunk=Chunk(text=document.page_content, **meta), score=score))
        return passages[:k]
