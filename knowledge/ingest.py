"""Keep the on-disk index in step with the knowledge sources, re-reading only what changed.

Layout under the index folder (`.parley/knowledge/` by default):

    manifest.json   per document: source, uri, content hash, file size/mtime, chunk ids
    chunks.jsonl    every chunk, one JSON object a line
    bm25/           the bm25s index over chunks.jsonl, in the same order
    embeddings.npy  `retriever: hybrid` only: one vector per chunk; embeddings.json lists
                    their chunk ids, and only chunks not listed there are embedded

`knowledge.manifest` reads and writes the first three; an index that is damaged or half from
another write is rebuilt, never a crash.

A file whose size and mtime are unchanged is not even read; one that was touched but hashes
the same is not re-parsed. A file that fails to load is recorded with its reason and not read
again until it changes. A file deleted while an ingest runs is treated as deleted before it.
BM25 itself is rebuilt from the stored chunks each time: it takes about a second for 5,000
documents, far less than re-reading them.

Pages of `url:` sources have no stat to trust: `run` asks for them every time (their manifest
`stat` is null), sending the ETag and Last-Modified the site gave last time, so an unchanged
page answers 304 and is not downloaded; one that is downloaded is re-chunked only when its
content hash changed. A page that fails with a transient error (timeout, HTTP 5xx) keeps its
indexed copy. `open`, at bot start, fetches nothing for a web source the index already holds
pages of. What the fetcher refuses (another site, a private address, robots.txt) is reported
as skipped, and so is a file reached through a link that leads out of its source's folder.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from parley_bot.agents.config import KnowledgeConfig, KnowledgeSource
from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge import manifest
from parley_bot.knowledge.chunking import chunk_document
from parley_bot.knowledge.dense import DenseIndex
from parley_bot.knowledge.loaders import PARSERS, load_file
from parley_bot.knowledge.manifest import Entry, SavedIndex
from parley_bot.knowledge.netguard import Scope
from parley_bot.knowledge.store import EmbeddedStore
from parley_bot.knowledge.types import Chunk, Document
from parley_bot.knowledge.web import PageError, Validators, WebFetcher

Progress = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    """What one ingest run did, for the CLI to print and tests to check."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """Indexed before and gone now: deleted (even while this run was going), or no longer
    listed by the site."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(key, reason) for what failed to load, whether it was indexed before or not."""
    ignored: list[tuple[str, str]] = field(default_factory=list)
    """(key, reason) for the files under a source folder that are not read at all: hidden,
    not matched by `include`, or of a type parley cannot read."""
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
    scope: Scope
    fetch: bool  # False: keep the indexed copy without asking the site


class Ingestor:
    """Incremental indexer for the sources of one bot."""

    def __init__(self, config: KnowledgeConfig, root: Path) -> None:
        self.config = config
        self.root = root
        self.folder = self._resolve(config.index_dir)

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
        return self._ingest(progress, refetch=refetch, rewrite=False)

    def open(self) -> EmbeddedStore:
        """The store as last written, or a fresh ingest when it is missing, stale or damaged;
        a hybrid store's model loaded, ready for the first question."""
        store = self._open()
        if store.dense is not None:
            store.dense.warm_up()
        return store

    def _open(self) -> EmbeddedStore:
        saved = manifest.read(self.folder)
        if saved is None or self._stale(saved):
            return self.run(refetch=False)[0]
        bm25 = manifest.load_bm25(self.folder, saved)
        if bm25 is None:
            return self._ingest(None, refetch=False, rewrite=True)[0]
        return EmbeddedStore(saved.chunks, bm25, self._dense(saved.chunks))

    def _ingest(
        self, progress: Progress | None, *, refetch: bool, rewrite: bool
    ) -> tuple[EmbeddedStore, IngestReport]:
        """`run`; `rewrite` saves the whole index even when the saved one looks current."""
        started = time.perf_counter()
        saved = manifest.read(self.folder)
        if saved is not None and saved.settings != self._settings():
            saved = None  # cut differently: every document is cut again
        old_docs = saved.documents if saved else {}
        old_chunks = {c.id: c for c in saved.chunks} if saved else {}
        report = IngestReport()
        docs: dict[str, Entry] = {}
        chunks: list[Chunk] = []
        with WebFetcher() as web:
            items: list[_File | _Page] = [*self._files(report)]
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
        failed = {key for key, _ in report.skipped}
        report.removed = sorted(old_docs.keys() - docs.keys() - failed)
        store = EmbeddedStore.build(chunks, dense=self._dense(chunks, progress))
        self._save(saved, docs, store, rewrite)
        report.chunks = len(chunks)
        report.seconds = time.perf_counter() - started
        return store, report

    def _save(
        self, saved: SavedIndex | None, docs: dict[str, Entry], store: EmbeddedStore,
        rewrite: bool,
    ) -> None:
        """Write what differs from the saved index: everything when the chunks changed, only
        the manifest when just an entry did (a touched file's mtime, a file that fails)."""
        if rewrite or saved is None or [c.id for c in store.chunks] != [c.id for c in saved.chunks]:
            manifest.write(self.folder, self._settings(), docs, store.chunks, store.bm25)
        elif docs != saved.documents:
            manifest.write_manifest(self.folder, self._settings(), docs)

    def _dense(self, chunks: list[Chunk], progress: Progress | None = None) -> DenseIndex | None:
        """The chunks' vectors when the bot asks for `retriever: hybrid`, else None."""
        if self.config.retriever != "hybrid":
            return None
        return DenseIndex.sync(self.folder, chunks, progress=progress)

    def _visit(
        self,
        item: _File,
        old: Entry | None,
        old_chunks: dict[str, Chunk],
        report: IngestReport,
    ) -> tuple[Entry | None, list[Chunk]]:
        """A file's entry and chunks: kept when its size and mtime are unchanged, else read.
        None when it was deleted since it was listed."""
        stat = _stat(item.path)
        if stat is None:
            return None, []
        if old is not None and old["stat"] == stat:
            if old["skipped"] is not None:
                report.skipped.append((item.key, old["skipped"]))
                return old, []
            if _intact(old, old_chunks):
                report.unchanged.append(item.key)
                return old, _chunks_of(old, old_chunks)
        try:
            document = load_file(item.path, item.source, item.uri)
        except KnowledgeError as exc:
            if not item.path.exists():
                return None, []
            reason = str(exc).removeprefix(f"{item.uri}: ")
            report.skipped.append((item.key, reason))
            return Entry(source=item.source, uri=item.uri, hash=None, stat=stat, chunks=[],
                         skipped=reason, etag=None, last_modified=None), []
        return self._index(item.key, document, old, old_chunks, report, stat)

    def _visit_page(
        self,
        web: WebFetcher,
        page: _Page,
        old: Entry | None,
        old_chunks: dict[str, Chunk],
        report: IngestReport,
    ) -> tuple[Entry | None, list[Chunk]]:
        if not page.fetch and old is not None:
            report.unchanged.append(page.key)
            return old, _chunks_of(old, old_chunks)
        held = old if old is not None and _intact(old, old_chunks) else None
        try:
            fetched = web.load(page.uri, page.scope, _validators(held) if held else None)
        except PageError as exc:
            report.skipped.append((page.key, exc.reason))
            if exc.transient and held is not None:
                return held, _chunks_of(held, old_chunks)  # until the site answers
            return None, []
        if fetched.document is None and held is not None:  # 304: not downloaded
            report.unchanged.append(page.key)
            return _with(held, fetched.validators), _chunks_of(held, old_chunks)
        assert fetched.document is not None, "a 304 answers only a request with validators"
        entry, chunks = self._index(page.key, fetched.document, old, old_chunks, report, None)
        return _with(entry, fetched.validators), chunks

    def _index(
        self,
        key: str,
        document: Document,
        old: Entry | None,
        old_chunks: dict[str, Chunk],
        report: IngestReport,
        stat: list[int] | None,
    ) -> tuple[Entry, list[Chunk]]:
        """The manifest entry and chunks of a freshly read document; re-chunked only when its
        content hash changed. `stat` is [size, mtime_ns] for a file, None for a web page."""
        if old is not None and old["hash"] == document.content_hash and _intact(old, old_chunks):
            report.unchanged.append(key)
            return {**old, "stat": stat}, _chunks_of(old, old_chunks)
        indexed = old is not None and old["skipped"] is None
        (report.updated if indexed else report.added).append(key)
        chunks = chunk_document(document, self.config.chunk_tokens, self.config.chunk_overlap,
                                self.config.pinned_languages)
        entry = Entry(source=document.source, uri=document.uri, hash=document.content_hash,
                      stat=stat, chunks=[c.id for c in chunks], skipped=None, etag=None,
                      last_modified=None)
        return entry, chunks

    def _files(self, report: IngestReport | None = None) -> Iterator[_File]:
        """The files of every `path:` source (see `_source_files`)."""
        for source in self.config.sources:
            if source.path is not None:
                yield from self._source_files(source, report)

    def _pages(
        self,
        web: WebFetcher,
        old_docs: dict[str, Entry],
        old_chunks: dict[str, Chunk],
        refetch: bool,
        report: IngestReport,
    ) -> Iterator[_Page]:
        """The pages of every `url:` source. A source whose page or sitemap cannot be fetched
        is reported skipped and keeps its indexed pages if the error was transient; so does
        one child sitemap of a sitemap index, for the indexed pages no other child lists."""
        for source in self.config.sources:
            if source.url is None:
                continue
            scope = Scope(source.url, source.name, frozenset(source.allow_hosts),
                          source.allow_private)
            held = [_Page(key, entry["uri"], scope, fetch=False)
                    for key, entry in old_docs.items()
                    if entry["source"] == source.name and entry["stat"] is None
                    and _intact(entry, old_chunks)]
            if held and not refetch:
                yield from held
                continue
            failed: list[PageError] = []
            try:
                prefix = f"{source.name}:"  # a key holds the URL asked for, before redirects
                known = {page.key.removeprefix(prefix): _validators(old_docs[page.key])
                         for page in held}
                urls = web.page_urls(scope, failed, known)
            except PageError as exc:
                report.skipped.append((f"{source.name}:{source.url}", exc.reason))
                if exc.transient:
                    yield from held
                continue
            report.skipped.extend((f"{source.name}:{exc.url}", exc.reason) for exc in failed)
            pages = [_Page(f"{source.name}:{url}", url, scope, True) for url in urls]
            yield from pages
            if any(exc.transient for exc in failed):  # a child sitemap will answer again
                listed = {page.key for page in pages}
                yield from (page for page in held if page.key not in listed)

    def check_sources(self) -> None:
        """Raise `KnowledgeError` for a `path:` source that does not exist; reads no file."""
        for source in self.config.sources:
            self._location(source)

    def _location(self, source: KnowledgeSource) -> Path | None:
        """The file or folder of a `path:` source (None for a `url:` source)."""
        if source.path is None:
            return None
        base = self._resolve(source.path)
        if not base.exists():
            raise KnowledgeError(f"knowledge source {source.name!r}: {base} does not exist")
        return base

    def _source_files(
        self, source: KnowledgeSource, report: IngestReport | None = None
    ) -> Iterator[_File]:
        """The files of a `path:` source to index. Every other file under it is added to the
        report's `ignored` with the reason: hidden (a dot file or folder, listed once), not
        matched by `include`, or of a type parley cannot read. A file reached through a link
        out of the source's folder is reported skipped. Patterns and suffixes match in any
        case."""
        base = self._location(source)
        assert base is not None
        if base.is_file():
            yield _File(f"{source.name}:{base.name}", base.name, base, source.name)
            return
        inside = base.resolve()
        include = [_pattern(p) for p in source.include]
        for path in sorted(base.rglob("*")):
            uri = path.relative_to(base).as_posix()
            key = f"{source.name}:{uri}"
            hidden = [part for part in uri.split("/") if part.startswith(".")]
            if not hidden and path.is_symlink() and path.is_dir():
                # rglob does not walk into linked folders; one that leaves the folder is said
                if report is not None and not path.resolve().is_relative_to(inside):
                    report.skipped.append((key, "a link out of the source folder, not followed"))
                continue
            if hidden or not path.is_file():
                if report is not None and hidden and uri.endswith(hidden[0]):
                    report.ignored.append((key, "hidden"))
                continue
            reason = None
            if not any(p.fullmatch(uri) for p in include):
                reason = "not matched by include: " + ", ".join(source.include)
            elif path.suffix.lower() not in PARSERS:
                reason = f"unsupported file type {path.suffix or '(none)'!r}"
            if reason is not None:
                if report is not None:
                    report.ignored.append((key, reason))
            elif not path.resolve().is_relative_to(inside):  # a link, or a link's folder
                if report is not None:
                    report.skipped.append((key, "a link out of the source folder, not followed"))
            else:
                yield _File(key, uri, path, source.name)

    def _stale(self, saved: SavedIndex) -> bool:
        """Whether the settings changed, a file was added, removed or touched, or a web source
        has no pages in the index yet. Indexed web pages are not fetched to find out."""
        if saved.settings != self._settings():
            return True
        files = {key: entry for key, entry in saved.documents.items() if entry["stat"] is not None}
        current = {f.key: f for f in self._files()}
        if current.keys() != files.keys():
            return True
        if any(files[key]["stat"] != _stat(item.path) for key, item in current.items()):
            return True
        fetched = {e["source"] for e in saved.documents.values() if e["stat"] is None}
        return any(s.url is not None and s.name not in fetched for s in self.config.sources)

    def _settings(self) -> dict[str, int | str]:
        return {"version": manifest.FORMAT, "chunk_tokens": self.config.chunk_tokens,
                "chunk_overlap": self.config.chunk_overlap,
                "languages": ",".join(sorted(self.config.languages)) or "auto"}

    def _resolve(self, path: Path) -> Path:
        """A path from flows.yaml: relative to the bot folder unless absolute."""
        return path if path.is_absolute() else self.root / path


def _stat(path: Path) -> list[int] | None:
    """[size, mtime_ns] of a file, what tells whether it changed; None once it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _chunks_of(entry: Entry, chunks: dict[str, Chunk]) -> list[Chunk]:
    """The stored chunks a manifest entry names, in document order."""
    return [chunks[c] for c in entry["chunks"]]


def _pattern(glob: str) -> re.Pattern[str]:
    """A glob (`**/*.md`) as a case-insensitive regex over a path relative to the source:
    `**/` is any folders (or none), `*` and `?` stay within one name."""
    out = []
    for part in re.split(r"(\*\*/|\*|\?)", glob):
        out.append({"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(part) or re.escape(part))
    return re.compile("".join(out), re.IGNORECASE)


def _intact(entry: Entry, chunks: dict[str, Chunk]) -> bool:
    """Whether every chunk a manifest entry names is still in the chunk file."""
    return all(c in chunks for c in entry["chunks"])


def _validators(entry: Entry) -> Validators:
    """What the site said identifies the indexed version of a page."""
    return Validators(entry["etag"], entry["last_modified"])


def _with(entry: Entry, validators: Validators) -> Entry:
    """`entry` with the validators of the page's latest response."""
    return {**entry, "etag": validators.etag, "last_modified": validators.last_modified}
