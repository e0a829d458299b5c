"""The index folder as saved, read back only when its files agree with one another.

    manifest.json   the settings, and per document its source, uri, content hash, file
                    size/mtime or page ETag/Last-Modified, and chunk ids; for a file that
                    failed to load, why
    chunks.jsonl    every chunk, one JSON object a line, in manifest order
    bm25/           the bm25s index over those chunks in the same order, and `chunk-ids`, a
                    digest of the ids it was built over

Files are replaced whole (see `knowledge.atomic`), bm25/ first and manifest.json last. A crash
or two concurrent ingests can still leave files of different writes side by side, so `read`
checks that they agree (the manifest lists the chunk ids in chunks.jsonl order; bm25/ holds
their digest) and answers None when they do not: the caller rebuilds rather than crash or
search with positions that point at the wrong chunks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from 3.12

from parley_bot.knowledge.atomic import replace_folder, write_file
from parley_bot.knowledge.bm25 import Bm25Index
from parley_bot.knowledge.types import Chunk

log = logging.getLogger(__name__)

FORMAT = 4
"""Bumped when stored data changes meaning, so older indexes are cut again.
2: chunk ids include the source name; files that fail to load are recorded.
3: language-aware analysis; chunks keep their blocks and know their language; web pages
   keep their ETag and Last-Modified.
4: English irregular verb forms are indexed as their verb ('shown' as 'show')."""

_BUILT_OVER = "chunk-ids"


class Entry(TypedDict):
    """One document (file or web page) in manifest.json."""

    source: str
    """The knowledge source it belongs to."""
    uri: str
    """How citations name it: the path under the source folder, or the page URL."""
    hash: str | None
    """sha256 of its bytes; None for a file that failed to load."""
    stat: list[int] | None
    """[size, mtime_ns] of a file, so an untouched one is not read again; None for a page."""
    chunks: list[str]
    """Its chunk ids in document order; empty for a file that failed to load."""
    skipped: str | None
    """Why the file failed to load. It is not read again until its size or mtime changes."""
    etag: str | None
    """A page's ETag, sent back as If-None-Match so an unchanged page is not downloaded."""
    last_modified: str | None
    """A page's Last-Modified, sent back as If-Modified-Since."""


class Manifest(TypedDict):
    """manifest.json."""

    settings: dict[str, int | str]
    """`FORMAT` and the chunking settings the index was cut with."""
    documents: dict[str, Entry]
    """Every document by its key, '<source>:<uri>', in chunks.jsonl order."""


_MANIFEST = TypeAdapter(Manifest)


@dataclass(frozen=True)
class SavedIndex:
    """The contents of an index folder whose files agree."""

    settings: dict[str, int | str]
    documents: dict[str, Entry]
    chunks: list[Chunk]


def read(folder: Path) -> SavedIndex | None:
    """The index saved in `folder`.

    Returns:
        None when there is no index, or it cannot be read, or its files come from different
        writes (a warning says which).
    """
    try:
        data = (folder / "manifest.json").read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        _warn(folder, "manifest.json", exc)
        return None
    try:
        manifest = _MANIFEST.validate_json(data)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        if _format(data) in (None, FORMAT):
            _warn(folder, "manifest.json", exc)
        else:
            log.info("%s: index of an older format; every document is cut again", folder)
        return None
    try:
        lines = (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        chunks = [Chunk.model_validate_json(line) for line in lines if line]
        built_over = (folder / "bm25" / _BUILT_OVER).read_text()
    except (OSError, ValueError) as exc:
        _warn(folder, "chunks.jsonl or bm25/", exc)
        return None
    ids = [c.id for c in chunks]
    listed = [i for entry in manifest["documents"].values() for i in entry["chunks"]]
    if listed != ids or len(set(ids)) != len(ids) or built_over != _digest(ids):
        _warn(folder, "manifest.json, chunks.jsonl and bm25/", "they list different chunks")
        return None
    return SavedIndex(manifest["settings"], manifest["documents"], chunks)


def load_bm25(folder: Path, saved: SavedIndex) -> Bm25Index | None:
    """The BM25 index over `saved.chunks`; None when it cannot be read, or another ingest
    replaced it after `saved` was read (a warning says which)."""
    try:
        bm25 = Bm25Index.load(folder / "bm25")
        built_over = (folder / "bm25" / _BUILT_OVER).read_text()
    except (OSError, ValueError, KeyError) as exc:  # what bm25s' readers raise
        _warn(folder, "bm25/", exc)
        return None
    if bm25.size != len(saved.chunks) or built_over != _digest([c.id for c in saved.chunks]):
        _warn(folder, "bm25/", "replaced while it was read")
        return None
    return bm25


def write(
    folder: Path, settings: dict[str, int | str], documents: dict[str, Entry],
    chunks: Sequence[Chunk], bm25: Bm25Index,
) -> None:
    """Save the whole index: bm25/, chunks.jsonl, then the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = _digest([c.id for c in chunks])

    def fill(new: Path) -> None:
        bm25.save(new)
        (new / _BUILT_OVER).write_text(digest)

    replace_folder(folder / "bm25", fill)
    write_file(folder / "chunks.jsonl",
               "".join(c.model_dump_json() + "\n" for c in chunks).encode())
    write_manifest(folder, settings, documents)


def write_manifest(
    folder: Path, settings: dict[str, int | str], documents: dict[str, Entry]
) -> None:
    """Save only the manifest, when the chunks are those already saved (a file was touched
    but not changed, or failed to load)."""
    manifest: Manifest = {"settings": settings, "documents": documents}
    write_file(folder / "manifest.json", json.dumps(manifest, indent=1).encode())


def _format(manifest: bytes) -> object:
    """The format a manifest says it has, even one this version cannot read; None if none."""
    try:
        return json.loads(manifest)["settings"]["version"]
    except (ValueError, KeyError, TypeError):
        return None


def _digest(ids: list[str]) -> str:
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()


def _warn(folder: Path, what: str, problem: Exception | str) -> None:
    first_line = str(problem).partition("\n")[0]
    log.warning("%s: %s unusable (%s); the index is rebuilt", folder, what, first_line)
