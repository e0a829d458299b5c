"""Retrieval quality and speed of parley's embedded index on a BEIR dataset (SciFact by default).

    python bench/retrieval.py [--data DIR] [--json FILE] [--no-dense] [--work DIR]

The corpus goes through the real pipeline: one markdown file per document (`# title`, then the
text) in a temporary folder, `Ingestor.run()` with chunks large enough to keep each document
whole, then `store.search` per query. A document split into several chunks would score as its
best chunk. Reported: nDCG@10 and Recall@10 (BEIR definitions, binary qrels, only the queries
that have qrels), p50/p95 latency of one `search`, and the ingest time. Beside them: plain
`bm25s` on the same texts, measured in the same run, and the published reference figures.
Dense and hybrid rows need `pip install 'parley-bot[embeddings]'`. The hybrid search runs
twice: as parley runs it (a query embedded on one torch thread) and, as the baseline, with the
query on torch's default threads.

A markdown file's `# title` is both its title and its own heading, which the index counts
twice (`store.index_terms`); with parley's analyzer (filler words left out of queries,
identifiers kept whole) SciFact's BM25 nDCG@10 is 0.692, against plain bm25s' 0.676.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

import bm25s
import Stemmer
from rich.console import Console
from rich.table import Table

from parley_bot.agents.config import KnowledgeConfig
from parley_bot.agents.errors import MissingExtraError
from parley_bot.knowledge.bm25 import K1, B
from parley_bot.knowledge.dense import FUSION_DEPTH, default_embedder
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.types import Chunk, Passage

# The shared data folder sits beside the repository (never copied into it).
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
K = 10
T = TypeVar("T")
# nDCG@10 on SciFact, from the dataset's README (BEIR paper, Pyserini, bm25s, SBERT).
PUBLISHED = {"bm25": "0.665 to 0.679", "baseline_bm25s": "0.676", "dense": "0.645"}
NAMES = {"bm25": "parley bm25", "baseline_bm25s": "plain bm25s (baseline)",
         "dense": "parley dense (MiniLM-L6)", "hybrid": "parley hybrid (score fusion)",
         "hybrid_threads": "hybrid, query on all torch threads (before)",
         "hybrid_rrf": "hybrid by RRF k=60 (compare)"}
Corpus = dict[str, dict[str, str]]  # id → {"title", "text"}
Qrels = dict[str, set[str]]  # query id → relevant document ids



def load_beir(folder: Path) -> tuple[Corpus, dict[str, str], Qrels]:
    """Corpus by id, the queries that have test qrels, and the relevant ids per query."""
    corpus = {}
    for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = json.loads(line)
            corpus[str(doc["_id"])] = {"title": doc.get("title") or "", "text": doc["text"]}
    qrels: Qrels = {}
    for row in (folder / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, score = row.split("\t")
        if int(score) > 0:
            qrels.setdefault(query_id, set()).add(doc_id)
    queries = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            query = json.loads(line)
            if str(query["_id"]) in qrels:
                queries[str(query["_id"])] = query["text"]
    return corpus, queries, qrels


def ndcg_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    dcg = sum(1 / math.log2(rank + 2) for rank, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal


def recall_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


def evaluate(search: Callable[[str], T], ranked_ids: Callable[[T], list[str]],
             queries: dict[str, str], qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10 and Recall@10, and p50/p95 latency of `search` alone in milliseconds.

    Args:
        search: one query in, results out; the only thing timed.
        ranked_ids: those results as document ids, best first.
    """
    for text in list(queries.values())[:5]:
        search(text)  # warm-up: caches, lazy model load
    ndcg, recall, latency = [], [], []
    for query_id, text in queries.items():
        started = time.perf_counter()
        results = search(text)
        latency.append((time.perf_counter() - started) * 1000)
        ranked = ranked_ids(results)
        ndcg.append(ndcg_at_k(ranked, qrels[query_id]))
        recall.append(recall_at_k(ranked, qrels[query_id]))
    cuts = statistics.quantiles(latency, n=100)
    return {"ndcg@10": statistics.fmean(ndcg), "recall@10": statistics.fmean(recall),
            "p50_ms": statistics.median(latency), "p95_ms": cuts[94]}


def write_corpus(corpus: Corpus, folder: Path) -> dict[str, str]:
    """One markdown file per document; returns document id by file name (the chunk uri)."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = {}
    for n, (doc_id, doc) in enumerate(corpus.items()):
        name = f"d{n:07d}.md"
        title = " ".join(doc["title"].split())
        body = f"# {title}\n\n{doc['text']}\n" if title else f"{doc['text']}\n"
        (folder / name).write_text(body, encoding="utf-8")
        ids[name] = doc_id
    return ids


def by_document(chunks: Iterable[Chunk], doc_of: dict[str, str]) -> list[str]:
    """Chunks → document ids, each document at the rank of its best chunk."""
    return list(dict.fromkeys(doc_of[c.uri] for c in chunks))


def baseline_bm25s(corpus: Corpus, queries: dict[str, str],
                   qrels: Qrels) -> dict[str, float]:
    """Plain bm25s (same k1/b, English stemmer and stop words), outside parley, called the
    fast way: queries as string tokens and `n_threads=0` (no thread pool built per query;
    `n_threads=1` builds one for every call and triples the latency)."""
    ids = list(corpus)
    stemmer = Stemmer.Stemmer("english")
    texts = [f"{corpus[d]['title']} {corpus[d]['text']}" for d in ids]
    retriever = bm25s.BM25(k1=K1, b=B)
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)

    def search(text: str) -> list[str]:
        tokens = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, return_ids=False,
                                show_progress=False)
        docs, _ = retriever.retrieve(tokens, k=K, show_progress=False, n_threads=0)
        return [ids[int(i)] for i in docs[0]]

    return evaluate(search, lambda ranked: ranked, queries, qrels)


def run(data: Path, dense: bool, work: Path | None = None) -> dict[str, Any]:
    corpus, queries, qrels = load_beir(data)
    results: dict[str, Any] = {"documents": len(corpus), "queries": len(queries)}
    with (nullcontext(str(work)) if work else
          tempfile.TemporaryDirectory(prefix="parley-bench-")) as tmp:
        doc_of = write_corpus(corpus, Path(tmp) / "docs")
        config = KnowledgeConfig.model_validate({
            "sources": [{"name": "corpus", "path": Path(tmp) / "docs", "include": ["*.md"]}],
            "chunk_tokens": 4000, "chunk_overlap": 0, "index_dir": Path(tmp) / "index",
        })
        started = time.perf_counter()
        store, report = Ingestor(config, Path(tmp)).run()
        results["ingest_s"] = time.perf_counter() - started
        results["chunks"] = report.chunks
        depth = K if report.chunks == len(corpus) else 5 * K  # split documents: fetch more
        def passages(passages: list[Passage]) -> list[str]:
            return by_document((p.chunk for p in passages), doc_of)

        results["bm25"] = evaluate(lambda q: store.search(q, depth), passages, queries, qrels)
        results["baseline_bm25s"] = baseline_bm25s(corpus, queries, qrels)
        if dense:
            try:
                hybrid_config = config.model_copy(update={"retriever": "hybrid"})
                started = time.perf_counter()
                hybrid, _ = Ingestor(hybrid_config, Path(tmp)).run()
                results["embed_s"] = time.perf_counter() - started
            except MissingExtraError as exc:
                results["skipped"] = str(exc)
                return results
            vectors = hybrid.dense
            assert vectors is not None
            results["dense"] = evaluate(
                lambda q: vectors.search(q, depth),
                lambda hits: by_document((hybrid.chunks[i] for i, _ in hits), doc_of),
                queries, qrels,
            )
            results["hybrid"] = evaluate(lambda q: hybrid.search(q, depth), passages, queries,
                                         qrels)
            embedder = default_embedder()  # the same, with a query on torch's default threads
            embedder.query_threads, threads = None, embedder.query_threads
            results["hybrid_threads"] = evaluate(lambda q: hybrid.search(q, depth), passages,
                                                 queries, qrels)
            embedder.query_threads = threads
            results["hybrid_rrf"] = evaluate(
                lambda q: rrf([hybrid.bm25.search(q, FUSION_DEPTH),
                               vectors.search(q, FUSION_DEPTH)], depth),
                lambda hits: by_document((hybrid.chunks[i] for i in hits), doc_of),
                queries, qrels,
            )
    return results


def rrf(rankings: list[list[tuple[int, float]]], k: int, c: int = 60) -> list[int]:
    """Reciprocal rank fusion (Cormack et al., 2009), the usual alternative to `dense.fuse`."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (position, _) in enumerate(ranking, start=1):
            fused[position] = fused.get(position, 0.0) + 1 / (c + rank)
    return sorted(fused, key=lambda position: -fused[position])[:k]


def show(results: dict[str, Any], console: Console) -> None:
    table = Table(title=f"Retrieval, {results['documents']:,} documents, "
                        f"{results['queries']} queries (nDCG@10 and Recall@10)")
    for column in ("retriever", "nDCG@10", "published", "Recall@10", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "retriever" else "right")
    for key, name in NAMES.items():
        if key in results:
            row = results[key]
            table.add_row(name, f"{row['ndcg@10']:.3f}", PUBLISHED.get(key, ""),
                          f"{row['recall@10']:.3f}", f"{row['p50_ms']:.2f}", f"{row['p95_ms']:.2f}")
    console.print(table)
    console.print(f"ingest (bm25): {results['ingest_s']:.1f} s for {results['chunks']:,} chunks")
    if "embed_s" in results:
        console.print(f"embedding for hybrid (incremental run on the same index): "
                      f"{results['embed_s']:.1f} s")
    if "skipped" in results:
        console.print(f"dense and hybrid skipped: {results['skipped']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="a BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--no-dense", action="store_true", help="BM25 only")
    parser.add_argument("--work", type=Path, help="keep the corpus and index in this folder "
                        "(embedding SciFact takes minutes; a later run reuses the vectors, and "
                        "its ingest times are then those of an update)")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").is_file():
        parser.error(f"no BEIR dataset at {args.data} (corpus.jsonl missing); pass --data DIR")
    results = run(args.data, dense=not args.no_dense, work=args.work)
    show(results, Console())
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
