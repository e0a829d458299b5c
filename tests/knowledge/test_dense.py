"""Dense retrieval and the hybrid store, with the real MiniLM model from parley-bot[embeddings]."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from parley_bot.agents.config import KnowledgeConfig
from parley_bot.agents.errors import MissingExtraError
from parley_bot.knowledge.dense import DenseIndex, Embedder, default_embedder, fuse
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.store import EmbeddedStore

# No word of QUESTION is in SHIPPING, once stop words are dropped and words stemmed.
QUESTION = "When will my package be delivered?"
DOCS = {
    "shipping.md": "# Shipping\n\nParcels usually arrive within three working days.\n",
    "returns.md": "# Returns\n\nUnworn shoes can be returned within 60 days for a refund.\n",
    "warranty.md": "# Warranty\n\nTents carry a two-year guarantee against manufacturing faults.\n",
    "hours.md": "# Opening hours\n\nOur shop opens at nine from Monday to Saturday.\n",
}
STAFF = {"couriers.md": "# Couriers\n\nThe van collects outgoing boxes from the depot at four.\n"}


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def config(retriever: str = "hybrid") -> KnowledgeConfig:
    return KnowledgeConfig.model_validate({
        "sources": [{"name": "docs", "path": "docs"}, {"name": "staff", "path": "staff"}],
        "retriever": retriever,
    })


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    write(tmp_path / "docs", DOCS)
    write(tmp_path / "staff", STAFF)
    return tmp_path


class CountingEmbedder(Embedder):
    """The real embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self._model = default_embedder()._load()
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingEmbedder:
    embedder = CountingEmbedder()
    monkeypatch.setattr("parley_bot.knowledge.dense.default_embedder", lambda: embedder)
    return embedder


def uris(store: EmbeddedStore, query: str, sources: frozenset[str] | None = None) -> list[str]:
    return [p.chunk.uri for p in store.search(query, 3, sources)]


def test_dense_finds_a_paraphrase_bm25_misses(bot: Path) -> None:
    store, _ = Ingestor(config(), bot).run()
    assert store.dense is not None
    assert store.bm25.search(QUESTION, 3) == []
    best, score = store.dense.search(QUESTION, 1)[0]
    assert store.chunks[best].uri == "shipping.md"
    assert 0 < score <= 1
    assert uris(store, QUESTION)[0] == "shipping.md"


def test_hybrid_keeps_what_only_bm25_finds(bot: Path) -> None:
    store, _ = Ingestor(config(), bot).run()
    assert uris(store, "manufacturing faults")[0] == "warranty.md"


def test_source_filter_applies_to_both_rankings(bot: Path) -> None:
    store, _ = Ingestor(config(), bot).run()
    question = "Who picks up the boxes we send out?"
    assert uris(store, question)[0] == "couriers.md"
    assert "couriers.md" not in uris(store, question, frozenset({"docs"}))
    assert uris(store, QUESTION, frozenset({"staff"})) == ["couriers.md"]
    assert uris(store, QUESTION, frozenset({"elsewhere"})) == []


def test_dense_mask_excludes_rows() -> None:
    texts = ["Parcels arrive in three days.", "Tents have a two-year guarantee."]
    index = DenseIndex(default_embedder().encode(texts))
    assert [i for i, _ in index.search("delivery time", 2)] == [0, 1]
    assert [i for i, _ in index.search("delivery time", 2, np.array([0, 1], "f4"))] == [1]


def test_only_new_or_changed_chunks_are_embedded(bot: Path, counting: CountingEmbedder) -> None:
    ingestor = Ingestor(config(), bot)
    store, _ = ingestor.run()
    assert len(counting.seen) == len(store.chunks) == 5
    stored = json.loads((ingestor.folder / "embeddings.json").read_text())
    assert stored["ids"] == [c.id for c in store.chunks]

    counting.seen.clear()
    (bot / "docs" / "hours.md").write_text("# Opening hours\n\nWe open at ten on Sundays.\n")
    store, report = ingestor.run()
    assert report.updated == ["docs:hours.md"]
    assert counting.seen == [c.searchable for c in store.chunks if c.uri == "hours.md"]

    counting.seen.clear()
    (bot / "docs" / "returns.md").unlink()
    store = ingestor.open()
    assert counting.seen == []
    stored = json.loads((ingestor.folder / "embeddings.json").read_text())
    assert stored["ids"] == [c.id for c in store.chunks]
    assert np.load(ingestor.folder / "embeddings.npy").shape == (4, 384)
    assert uris(store, QUESTION)[0] == "shipping.md"


@pytest.mark.parametrize(
    "damage", ["embeddings.npy of the write before", "embeddings.json of the write before",
               "embeddings.npy torn"])
def test_vectors_that_disagree_with_their_ids_are_embedded_again(
    bot: Path, counting: CountingEmbedder, damage: str
) -> None:
    ingestor = Ingestor(config(), bot)
    ingestor.run()
    name = damage.split()[0]
    before = (ingestor.folder / name).read_bytes()
    (bot / "docs" / "hours.md").write_text("# Opening hours\n\nWe open at ten on Sundays.\n")
    ingestor.run()  # as many vectors as before; one of them new
    after = (ingestor.folder / name).read_bytes()
    torn = after[: len(after) // 2]
    (ingestor.folder / name).write_bytes(torn if damage.endswith("torn") else before)
    counting.seen.clear()

    store = ingestor.open()

    assert sorted(counting.seen) == sorted(c.searchable for c in store.chunks)
    assert uris(store, QUESTION)[0] == "shipping.md"
    counting.seen.clear()
    Ingestor(config(), bot).open()
    assert counting.seen == []


def test_switching_a_bm25_index_to_hybrid_embeds_it_once(
    bot: Path, counting: CountingEmbedder
) -> None:
    Ingestor(config("bm25"), bot).run()
    assert counting.seen == []
    store = Ingestor(config(), bot).open()
    assert len(counting.seen) == 5
    Ingestor(config(), bot).open()
    assert len(counting.seen) == 5
    assert uris(store, QUESTION)[0] == "shipping.md"


def test_bm25_only_bots_never_import_torch(bot: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from agents.config import KnowledgeConfig\n"
        "from knowledge.ingest import Ingestor\n"
        "config = KnowledgeConfig.model_validate({'sources': [{'name': 'docs', 'path': 'docs'}]})\n"
        f"ingestor = Ingestor(config, Path({str(bot)!r}))\n"
        "ingestor.run()\n"
        "ingestor.open().search('returns', 3)\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], env={**os.environ}, check=True)
    assert done.stdout.strip() == "[]"


def test_missing_extra_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    with pytest.raises(MissingExtraError, match=r"pip install 'parley-bot\[embeddings\]'"):
        Embedder().encode(["hello"])


def test_hybrid_ingest_without_the_extra_fails_with_the_install_line(
    bot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    monkeypatch.setattr("parley_bot.knowledge.dense.default_embedder", Embedder)
    with pytest.raises(MissingExtraError, match=r"dense retrieval needs an optional extra"):
        Ingestor(config(), bot).run()


def test_fuse_scales_each_ranking_then_adds_them() -> None:
    bm25 = [(0, 9.0), (1, 7.0), (2, 1.0)]
    dense = [(3, 0.9), (1, 0.8), (4, 0.5)]
    fused = dict(fuse([bm25, dense], 5))
    assert list(fused) == [1, 0, 3, 2, 4]
    assert fused == pytest.approx({1: 0.5 * 0.75 + 0.5 * 0.75, 0: 0.5, 3: 0.5, 2: 0.0, 4: 0.0})
    assert fuse([bm25, []], 2) == [(0, 0.5), (1, 0.375)]
    assert fuse([[(7, 3.0)], dense], 1) == [(7, 0.5)]
    assert fuse([bm25, dense], 2, weights=[0.2, 0.8]) == [(3, 0.8), (1, pytest.approx(0.75))]


def test_opening_a_hybrid_index_loads_the_model_before_the_first_question(
    bot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ingestor(config(), bot).run()
    fresh = Embedder()  # as in a process just started: the model not loaded yet
    monkeypatch.setattr("parley_bot.knowledge.dense.default_embedder", lambda: fresh)
    assert fresh._model is None
    Ingestor(config(), bot).open()
    assert fresh._model is not None
