"""Keep the on-disk index in step with the knowledge sources, re-reading only what changed.

Layout under the index folder (`.parley/knowledge/` by default):

    manifest.json   per document: source, uri, content hash, file size/mtime, chunk ids
    chunks.jsonl    every chunk, one JSON object a line
    bm25/           the bm25s index over chunks.jsonl, in the same order
    embeddings.npy  `retriever: hybrid` only: one vector per chunk; embeddings.json lists
                    their chunk ids, and only chunks not listed there are embedded

A file whose size and mtime are unchanged is not even read; one that was touched but hashes
the same is not re-parsed. BM25 itself is rebuilt from the stored chunks each time: it takes
about a second for 5,000 documents, far less than re-reading them.

Pages of `url:` sources have no stat to trust: `run` fetches them every time (their manifest
`stat` is null) and re-chunks only those whose content hash changed. A page that fails with a
transient error (timeout, HTTP 5xx) keeps its indexed copy. `open`, at bot start, fetches
nothing for a web source the index already holds pages of.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.config import KnowledgeConfig, KnowledgeSource
from agents.errors import KnowledgeError
from knowledge.bm25 import Bm25Index
from knowledge.chunking import chunk_document
from knowledge.dense import DenseIndex
from knowledge.loaders import PARSERS, load_file
from knowledge.store import EmbeddedStore
from knowledge.types import Chunk, Document
from knowledge.web import PageError, WebFetcher

MANIFEST_VERSION = 1
Progress = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    """What one ingest run did, for the CLI to print and tests to check."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class _File:
    key: str
    uri: str
    path: Path
    source: str


@dataclass(frozen=True)
class _Page:
    key: str
    uri: str
    source: str
    fetch: bool  # False: keep the indexed copy without asking the site


class Ingestor:
    """Incremental indexer for the sources of one bot."""

    def __init__(self, config: KnowledgeConfig, root: Path) -> None:
        self.config = config
        self.root = root
        index_dir = config.index_dir
        self.folder = index_dir if index_dir.is_absolute() else root / index_dir

    def run(
        self, progress: Progress | None = None, *, refetch: bool = True
    ) -> tuple[EmbeddedStore, IngestReport]:
        """Bring the index up to date and return the store over it.

        Args:
            progress: called as (done, total, uri) after each document is looked at.
            refetch: fetch the pages of `url:` sources again. When False, a web source that
                has pages in the index keeps them unfetched (for bot start-up).

        Returns:
            The store, and a report of what was added, updated, removed and skipped (and why).
        """
        started = time.perf_counter()
        manifest = self._read_manifest()
        old_docs: dict[str, dict[str, Any]] = manifest.get("documents", {})
        if manifest.get("settings") != self._settings():
            old_docs = {}  # chunking changed: every document must be cut again
        old_chunks = self._read_chunks() if old_docs else {}
        report = IngestReport()
        docs: dict[str, dict[str, Any]] = {}
        chunks: list[Chunk] = []
        with WebFetcher() as web:
            items: list[_File | _Page] = [*self._files()]
            items.extend(self._pages(web, old_docs, old_chunks, refetch, report))
            for done, item in enumerate(items, start=1):
                old = old_docs.get(item.key)
                if isinstance(item, _File):
                    entry, item_chunks = self._visit(item, old, old_chunks, report)
                else:
                    entry, item_chunks = self._visit_page(web, item, old, old_chunks, report)
                if entry is not None:
                    docs[item.key] = entry
                    chunks.extend(item_chunks)
                if progress:
                    progress(done, len(items), item.uri)
        report.removed = sorted(old_docs.keys() - {i.key for i in items})
        store = EmbeddedStore(
            chunks, Bm25Index.build([c.searchable for c in chunks]), self._dense(chunks, progress)
        )
        # a document that was indexed and now fails to load drops out without being 'removed'
        if report.changed or docs.keys() != old_docs.keys() or not self._complete():
            self._write(docs, store)
        report.chunks = len(chunks)
        report.seconds = time.perf_counter() - started
        return store, report

    def open(self) -> EmbeddedStore:
        """The store as last written, or a fresh ingest when it is missing or stale."""
        if self._complete() and not self._stale():
            chunks = list(self._read_chunks().values())
            return EmbeddedStore(chunks, Bm25Index.load(self.folder / "bm25"), self._dense(chunks))
        return self.run(refetch=False)[0]

    def _dense(self, chunks: list[Chunk], progress: Progress | None = None) -> DenseIndex | None:
        """The chunks' vectors when the bot asks for `retriever: hybrid`, else None."""
        if self.config.retriever != "hybrid":
            return None
        return DenseIndex.sync(self.folder, chunks, progress=progress)

    def _visit(
        self,
        item: _File,
        old: dict[str, Any] | None,
        old_chunks: dict[str, Chunk],
        report: IngestReport,
    ) -> tuple[dict[str, Any] | None, list[Chunk]]:
        stat = item.path.stat()
        fast = [stat.st_size, stat.st_mtime_ns]
        if old is not None and old["stat"] == fast and _intact(old, old_chunks):
            report.unchanged.append(item.key)
            return old, _chunks_of(old, old_chunks)
        try:
            document = load_file(item.path, item.source, item.uri)
        except KnowledgeError as exc:
            report.skipped.append((item.key, str(exc).removeprefix(f"{item.uri}: ")))
            return None, []
        return self._index(item.key, document, old, old_chunks, report, fast)

    def _visit_page(
        self,
        web: WebFetcher,
        page: _Page,
        old: dict[str, Any] | None,
        old_chunks: dict[str, Chunk],
        report: IngestReport,
    ) -> tuple[dict[str, Any] | None, list[Chunk]]:
        if not page.fetch and old is not None:
            report.unchanged.append(page.key)
            return old, _chunks_of(old, old_chunks)
        try:
            document = web.load(page.uri, page.source)
        except PageError as exc:
            report.skipped.append((page.key, exc.reason))
            if exc.transient and old is not None and _intact(old, old_chunks):
                return old, _chunks_of(old, old_chunks)  # until the site answers
            return None, []
        return self._index(page.key, document, old, old_chunks, report, None)

    def _index(
        self,
        key: str,
        document: Document,
        old: dict[str, Any] | None,
        old_chunks: dict[str, Chunk],
        report: IngestReport,
        stat: list[int] | None,
    ) -> tuple[dict[str, Any], list[Chunk]]:
        """The manifest entry and chunks of a freshly read document; re-chunked only when its
        content hash changed. `stat` is [size, mtime_ns] for a file, None for a web page."""
        if old is not None and old["hash"] == document.content_hash and _intact(old, old_chunks):
            report.unchanged.append(key)
            return {**old, "stat": stat}, _chunks_of(old, old_chunks)
        (report.updated if old is not None else report.added).append(key)
        chunks = chunk_document(document, self.config.chunk_tokens, self.config.chunk_overlap)
        entry = {"source": document.source, "uri": document.uri, "hash": document.content_hash,
                 "stat": stat, "chunks": [c.id for c in chunks]}
        return entry, chunks

    def _files(self) -> Iterator[_File]:
        for source in self.config.sources:
            if source.path is not None:
                yield from self._source_files(source)

    def _pages(
        self,
        web: WebFetcher,
        old_docs: dict[str, dict[str, Any]],
        old_chunks: dict[str, Chunk],
        refetch: bool,
        report: IngestReport,
    ) -> Iterator[_Page]:
        """The pages of every `url:` source. A source whose page or sitemap cannot be fetched
        is reported skipped and keeps its indexed pages if the error was transient."""
        for source in self.config.sources:
            if source.url is None:
                continue
            held = [_Page(key, entry["uri"], source.name, fetch=False)
                    for key, entry in old_docs.items()
                    if entry["source"] == source.name and entry["stat"] is None
                    and _intact(entry, old_chunks)]
            if held and not refetch:
                yield from held
                continue
            try:
                urls = web.page_urls(source.url)
            except PageError as exc:
                report.skipped.append((f"{source.name}:{source.url}", exc.reason))
                if exc.transient:
                    yield from held
                continue
            yield from (_Page(f"{source.name}:{url}", url, source.name, True) for url in urls)

    def _source_files(self, source: KnowledgeSource) -> Iterator[_File]:
        assert source.path is not None
        base = source.path if source.path.is_absolute() else self.root / source.path
        if base.is_file():
            yield _File(f"{source.name}:{base.name}", base.name, base, source.name)
            return
        if not base.is_dir():
            raise KnowledgeError(f"knowledge source {source.name!r}: {base} does not exist")
        seen: set[Path] = set()
        for pattern in source.include:
            for path in sorted(base.glob(pattern)):
                if path.is_file() and path not in seen and path.suffix.lower() in PARSERS:
                    seen.add(path)
                    uri = path.relative_to(base).as_posix()
                    yield _File(f"{source.name}:{uri}", uri, path, source.name)

    def _stale(self) -> bool:
        """Whether the settings changed, a file was added, removed or touched, or a web source
        has no pages in the index yet. Indexed web pages are not fetched to find out."""
        manifest = self._read_manifest()
        if manifest.get("settings") != self._settings():
            return True
        docs: dict[str, dict[str, Any]] = manifest.get("documents", {})
        files = {key: entry for key, entry in docs.items() if entry["stat"] is not None}
        current = {f.key: f for f in self._files()}
        if current.keys() != files.keys():
            return True
        for key, item in current.items():
            stat = item.path.stat()
            if files[key]["stat"] != [stat.st_size, stat.st_mtime_ns]:
                return True
        fetched = {entry["source"] for entry in docs.values() if entry["stat"] is None}
        return any(s.url is not None and s.name not in fetched for s in self.config.sources)

    def _settings(self) -> dict[str, Any]:
        return {"version": MANIFEST_VERSION, "chunk_tokens": self.config.chunk_tokens,
                "chunk_overlap": self.config.chunk_overlap}

    def _complete(self) -> bool:
        return all((self.folder / n).exists() for n in ("manifest.json", "chunks.jsonl", "bm25"))

    def _read_manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "manifest.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _read_chunks(self) -> dict[str, Chunk]:
        try:
            lines = (self.folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError:
            return {}
        chunks = (Chunk.model_validate_json(line) for line in lines if line)
        return {c.id: c for c in chunks}

    def _write(self, docs: dict[str, dict[str, Any]], store: EmbeddedStore) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        store.bm25.save(self.folder / "bm25")
        (self.folder / "chunks.jsonl").write_text(
            "".join(c.model_dump_json() + "\n" for c in store.chunks), encoding="utf-8"
        )
        manifest = {"settings": self._settings(), "documents": docs}
        (self.folder / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _chunks_of(entry: dict[str, Any], chunks: dict[str, Chunk]) -> list[Chunk]:
    """The stored chunks a manifest entry names, in document order."""
    return [chunks[c] for c in entry["chunks"]]


def _intact(entry: dict[str, Any], chunks: dict[str, Chunk]) -> bool:
    """Whether every chunk a manifest entry names is still in the chunk file."""
    return all(c in chunks for c in entry["chunks"])
