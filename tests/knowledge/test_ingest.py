"""Incremental ingest of folders and web sites into the on-disk index, then retrieval."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parley_bot.agents.config import KnowledgeConfig, KnowledgeSource
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.loaders import load_file
from parley_bot.knowledge.store import EmbeddedStore
from parley_bot.knowledge.types import Document
from tests.knowledge.builders import docx_bytes, html_page, pdf_bytes
from tests.utils.site import Site, serving

RETURNS_MD = """# Returns

Unworn shoes can be returned within 60 days.

## Refunds

Refunds reach your card within five working days.
"""
HANDBOOK = [("Title", "Staff handbook"), ("Heading 1", "Lockers"),
            ("Normal", "Staff lockers are in the basement next to the loading bay.")]
HOURS = "<h1>Store hours</h1><p>Open Monday to Saturday.</p><h2>Holidays</h2>" \
        "<p>Closed on Christmas Day.</p>"
KEYS = ["docs:handbook.docx", "docs:hours.html", "docs:notes/gift-cards.txt", "docs:returns.md",
        "docs:warranty.pdf"]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "notes").mkdir(parents=True)
    (folder / "returns.md").write_text(RETURNS_MD)
    (folder / "notes" / "gift-cards.txt").write_text("Gift cards never expire.\n")
    (folder / "warranty.pdf").write_bytes(pdf_bytes(
        ["Blenders have a two-year warranty.", "Refurbished units are covered for ninety days."],
        title="Warranty"))
    (folder / "handbook.docx").write_bytes(docx_bytes(HANDBOOK))
    (folder / "hours.html").write_text(html_page("Store hours", HOURS))
    return folder


def ingestor(root: Path, *sources: KnowledgeSource, size: int = 60, overlap: int = 10) -> Ingestor:
    config = KnowledgeConfig(sources=list(sources), chunk_tokens=size, chunk_overlap=overlap,
                             index_dir=Path("index"))
    return Ingestor(config, root)


def folder_source(docs: Path) -> KnowledgeSource:
    return KnowledgeSource(name="docs", path=docs)


def top(store: EmbeddedStore, query: str) -> tuple[str, tuple[str, ...], int | None] | None:
    passages = store.search(query, k=1)
    if not passages:
        return None
    chunk = passages[0].chunk
    return chunk.uri, chunk.heading_path, chunk.page


def all_text(store: EmbeddedStore) -> str:
    return "\n".join(c.text for c in store.chunks)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each file (by uri) was read and parsed: the real `load_file` runs, and each
    call the ingest module makes is counted."""
    seen: Counter[str] = Counter()

    def counting_load_file(path: Path, source: str, uri: str) -> Document:
        seen[uri] += 1
        return load_file(path, source, uri)

    monkeypatch.setattr("parley_bot.knowledge.ingest.load_file", counting_load_file)
    return seen


def touch(path: Path) -> None:
    """Move the file's mtime a second on, leaving its bytes alone."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


# --- folders ------------------------------------------------------------------------------


def test_a_folder_of_every_format_is_indexed_and_searchable(tmp_path: Path, docs: Path) -> None:
    store, report = ingestor(tmp_path, folder_source(docs)).run()

    assert sorted(report.added) == KEYS
    assert report.skipped == [] and report.removed == []
    assert top(store, "are refurbished units covered") == ("warranty.pdf", (), 2)
    assert top(store, "where are staff lockers") == ("handbook.docx", ("Lockers",), None)
    assert top(store, "closed at christmas") == ("hours.html", ("Store hours", "Holidays"), None)
    assert top(store, "how long until my refund") == ("returns.md", ("Returns", "Refunds"), None)
    assert top(store, "gift card expiry") == ("notes/gift-cards.txt", (), None)


def test_a_second_run_reads_nothing_and_writes_nothing(
    tmp_path: Path, docs: Path, parses: Counter[str]
) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    manifest = tmp_path / "index" / "manifest.json"
    written = manifest.stat().st_mtime_ns
    parses.clear()

    store, report = ingest.run()

    assert parses == {}
    assert sorted(report.unchanged) == KEYS
    assert not report.changed
    assert manifest.stat().st_mtime_ns == written
    assert top(store, "are refurbished units covered") == ("warranty.pdf", (), 2)


def test_a_touched_file_is_read_once_and_not_rechunked(
    tmp_path: Path, docs: Path, parses: Counter[str]
) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    chunks = tmp_path / "index" / "chunks.jsonl"
    written = chunks.stat().st_mtime_ns
    touch(docs / "returns.md")  # same bytes: read and hashed, not re-chunked
    parses.clear()

    _, report = ingest.run()

    assert parses == {"returns.md": 1}
    assert sorted(report.unchanged) == KEYS and not report.changed
    assert chunks.stat().st_mtime_ns == written  # only the manifest learnt the new mtime

    parses.clear()
    ingest.run()
    ingest.open()
    assert parses == {}


def test_editing_one_document_reindexes_only_that_one(tmp_path: Path, docs: Path) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    (docs / "handbook.docx").write_bytes(docx_bytes(
        [("Heading 1", "Lockers"), ("Normal", "Lockers moved to the first floor by the canteen.")]))

    store, report = ingest.run()

    assert report.updated == ["docs:handbook.docx"]
    assert sorted(report.unchanged) == [k for k in KEYS if k != "docs:handbook.docx"]
    assert report.added == [] and report.removed == []
    assert "first floor by the canteen" in all_text(store)
    assert "basement" not in all_text(store)
    assert "basement" not in all_text(ingest.open())  # the saved index agrees


def test_deleting_a_file_removes_its_chunks(tmp_path: Path, docs: Path) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    (docs / "warranty.pdf").unlink()

    store, report = ingest.run()

    assert report.removed == ["docs:warranty.pdf"]
    assert top(store, "are refurbished units covered") is None
    assert all(c.uri != "warranty.pdf" for c in ingest.open().chunks)


def test_broken_files_are_skipped_with_reasons_and_the_rest_indexed(
    tmp_path: Path, docs: Path
) -> None:
    (docs / "broken.pdf").write_bytes(os.urandom(2048))
    (docs / "empty.md").write_text("\n\n")

    store, report = ingestor(tmp_path, folder_source(docs)).run()

    assert sorted(report.skipped) == [
        ("docs:broken.pdf", "not a PDF file (no %PDF- header)"),
        ("docs:empty.md", "no text found (empty file?)"),
    ]
    assert sorted(report.added) == KEYS
    assert top(store, "are refurbished units covered") == ("warranty.pdf", (), 2)


def test_a_document_that_breaks_leaves_the_saved_index(tmp_path: Path, docs: Path) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    (docs / "returns.md").write_text("")

    _, report = ingest.run()

    assert report.skipped == [("docs:returns.md", "no text found (empty file?)")]
    saved = (tmp_path / "index" / "chunks.jsonl").read_text()
    assert "Unworn shoes" not in saved


def test_changing_chunk_settings_rechunks_everything(tmp_path: Path, docs: Path) -> None:
    (docs / "long.md").write_text("# Long\n\n" + " ".join(
        f"Sentence number {n} talks about tents and sleeping bags." for n in range(40)))
    _, first = ingestor(tmp_path, folder_source(docs), size=60, overlap=10).run()

    store, report = ingestor(tmp_path, folder_source(docs), size=25, overlap=5).run()

    assert report.unchanged == []
    assert sorted(report.added) == sorted(first.added)
    assert report.chunks > first.chunks
    assert max(len(c.text.split()) for c in store.chunks) <= 25


def test_skipped_files_are_remembered_until_they_change(
    tmp_path: Path, docs: Path, parses: Counter[str]
) -> None:
    (docs / "broken.pdf").write_bytes(os.urandom(2048))
    (docs / "empty.md").write_text("\n\n")
    ingest = ingestor(tmp_path, folder_source(docs))
    _, first = ingest.run()
    manifest = tmp_path / "index" / "manifest.json"
    written = manifest.stat().st_mtime_ns
    parses.clear()

    ingest.open()  # bot start: the index is not stale
    _, report = ingest.run()

    assert parses == {}
    assert report.skipped == first.skipped == [
        ("docs:empty.md", "no text found (empty file?)"),
        ("docs:broken.pdf", "not a PDF file (no %PDF- header)"),
    ]
    assert not report.changed and manifest.stat().st_mtime_ns == written

    (docs / "broken.pdf").write_bytes(pdf_bytes(["Kettles have a one-year warranty."]))
    store, report = ingest.run()

    assert parses == {"broken.pdf": 1}
    assert report.added == ["docs:broken.pdf"]
    assert report.skipped == [("docs:empty.md", "no text found (empty file?)")]
    assert top(store, "kettle warranty") == ("broken.pdf", (), 1)


@pytest.mark.parametrize("indexed_before", [False, True])
def test_a_file_deleted_during_ingest_is_left_out(
    tmp_path: Path, docs: Path, indexed_before: bool
) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    if indexed_before:
        ingest.run()
    visited: list[str] = []

    def delete_warranty_early(done: int, total: int, uri: str) -> None:
        visited.append(uri)
        if done == 1:
            (docs / "warranty.pdf").unlink()  # files are visited by pattern: *.pdf comes later

    store, report = ingest.run(delete_warranty_early)

    assert visited[0] == "returns.md" and "warranty.pdf" in visited
    assert report.skipped == []
    assert report.removed == (["docs:warranty.pdf"] if indexed_before else [])
    assert "docs:warranty.pdf" not in report.added + report.unchanged
    assert top(store, "are refurbished units covered") is None
    assert top(ingest.open(), "are refurbished units covered") is None


def test_the_same_file_in_two_sources_is_indexed_twice(tmp_path: Path) -> None:
    for name in ("help", "staff"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "faq.md").write_text(RETURNS_MD)
    ingest = ingestor(tmp_path, KnowledgeSource(name="help", path=Path("help")),
                      KnowledgeSource(name="staff", path=Path("staff")))
    ingest.run()

    store = ingest.open()

    assert len({c.id for c in store.chunks}) == len(store.chunks) == 4
    assert sorted(p.chunk.source for p in store.search("refund card", k=5)) == ["help", "staff"]
    only_staff = store.search("refund card", k=5, sources=frozenset({"staff"}))
    assert [p.chunk.source for p in only_staff] == ["staff"]


# --- a damaged index ----------------------------------------------------------------------


def _cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _drop_second_line(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1] + lines[2:]))


def _drop_a_field(path: Path) -> None:
    manifest = json.loads(path.read_text())
    del manifest["documents"]["docs:returns.md"]["stat"]
    path.write_text(json.dumps(manifest))


DAMAGE = {
    "chunks torn mid-line": ("chunks.jsonl", _cut_in_half),
    "a chunk missing": ("chunks.jsonl", _drop_second_line),
    "manifest torn": ("manifest.json", _cut_in_half),
    "manifest entry without stat": ("manifest.json", _drop_a_field),
    "bm25 folder missing": ("bm25", shutil.rmtree),
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("entry", ["open", "run"])
def test_a_damaged_index_is_rebuilt_not_a_crash(
    tmp_path: Path, docs: Path, parses: Counter[str], damage: str, entry: str
) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    name, harm = DAMAGE[damage]
    harm(tmp_path / "index" / name)

    store = ingest.open() if entry == "open" else ingest.run()[0]

    assert top(store, "are refurbished units covered") == ("warranty.pdf", (), 2)
    docs_only = store.search("staff lockers", k=3, sources=frozenset({"docs"}))
    assert docs_only[0].chunk.uri == "handbook.docx"
    parses.clear()
    assert top(ingest.open(), "where are staff lockers") == ("handbook.docx", ("Lockers",), None)
    assert parses == {}  # repaired on disk: the next start reads nothing


def test_a_damaged_bm25_file_is_rebuilt_at_open(tmp_path: Path, docs: Path) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    (tmp_path / "index" / "bm25" / "params.index.json").write_text("{")

    assert top(ingest.open(), "are refurbished units covered") == ("warranty.pdf", (), 2)
    assert top(ingest.open(), "where are staff lockers") == ("handbook.docx", ("Lockers",), None)


def test_a_bm25_folder_from_another_write_is_not_trusted(tmp_path: Path) -> None:
    bots = {"gifts": "Gift cards never expire.", "tents": "Tents are waterproof."}
    for bot, text in bots.items():
        (tmp_path / bot / "docs").mkdir(parents=True)
        (tmp_path / bot / "docs" / "faq.txt").write_text(text)
        ingestor(tmp_path / bot, KnowledgeSource(name="docs", path=Path("docs"))).run()
    shutil.rmtree(tmp_path / "gifts" / "index" / "bm25")  # one chunk each: same size
    shutil.copytree(tmp_path / "tents" / "index" / "bm25", tmp_path / "gifts" / "index" / "bm25")

    store = ingestor(tmp_path / "gifts", KnowledgeSource(name="docs", path=Path("docs"))).open()

    assert top(store, "do gift cards expire") == ("faq.txt", (), None)


def test_a_reader_keeps_the_whole_old_index_while_it_is_rewritten(
    tmp_path: Path, docs: Path
) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    folder = tmp_path / "index"
    names = ["manifest.json", "chunks.jsonl", "bm25/vocab.index.json"]
    before = {name: (folder / name).read_bytes() for name in names}
    handles = {name: (folder / name).open("rb") for name in names}  # a bot reading the index
    try:
        (docs / "returns.md").write_text(RETURNS_MD + "\nExchanges are free.\n")
        ingest.run()
        assert {name: handle.read() for name, handle in handles.items()} == before
    finally:
        for handle in handles.values():
            handle.close()
    assert "Exchanges are free." in (folder / "chunks.jsonl").read_text()
    assert sorted(p.name for p in folder.iterdir()) == ["bm25", "chunks.jsonl", "manifest.json"]


def test_an_index_of_the_previous_format_is_cut_again(
    tmp_path: Path, docs: Path, parses: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["settings"]["version"] = 1
    for entry in manifest["documents"].values():
        del entry["skipped"]  # format 1 had no such field
    path.write_text(json.dumps(manifest))
    parses.clear()

    store = ingest.open()

    assert sorted(parses) == sorted(key.removeprefix("docs:") for key in KEYS)
    assert top(store, "are refurbished units covered") == ("warranty.pdf", (), 2)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_two_ingests_and_a_reader_at_once_never_crash(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(20):
        (folder / f"page-{n}.md").write_text(f"# Page {n}\n\nTopic {n} is about tents.\n")
    errors: list[BaseException] = []
    stop = threading.Event()

    def ingest(rounds: int) -> None:
        try:
            for n in range(rounds):
                long = " ".join(f"Sentence {k} says the lockers are upstairs." for k in range(n))
                (folder / "lockers.md").write_text(f"# Lockers\n\n{long}\n")
                ingestor(tmp_path, folder_source(folder)).run()
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            while not stop.is_set():
                store = ingestor(tmp_path, folder_source(folder)).open()
                store.search("tents", k=3, sources=frozenset({"docs"}))
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=ingest, args=(12,)) for _ in range(2)]
    reader = threading.Thread(target=read)
    for thread in [*writers, reader]:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()

    assert errors == []
    store = ingestor(tmp_path, folder_source(folder)).open()
    assert len(store.chunks) == store.bm25.size
    assert top(store, "where are the lockers") == ("lockers.md", ("Lockers",), None)


# --- web sites ----------------------------------------------------------------------------


@pytest.fixture
def shop(site: Site) -> Site:
    site.write("/returns.html", html_page("Returns", RETURNS_HTML))
    site.write("/shipping.html", html_page("Shipping", SHIPPING_HTML))
    site.sitemap(["/returns.html", "/shipping.html"])
    return site


RETURNS_HTML = "<h1>Returns</h1><p>Unworn shoes can be returned within 60 days.</p>"
SHIPPING_HTML = "<h1>Shipping</h1><p>Standard delivery takes three working days.</p>"


def web_source(site: Site, path: str = "/sitemap.xml", **options: Any) -> KnowledgeSource:
    """The site as a source; on 127.0.0.1, so it opts in with `allow_private`."""
    return KnowledgeSource(name="shop", url=site.url(path), allow_private=True, **options)


def test_a_site_is_indexed_and_only_changed_pages_are_rechunked(
    tmp_path: Path, shop: Site
) -> None:
    ingest = ingestor(tmp_path, web_source(shop))
    store, report = ingest.run()
    returns, shipping = f"shop:{shop.url('/returns.html')}", f"shop:{shop.url('/shipping.html')}"
    assert sorted(report.added) == [returns, shipping]
    best = store.search("how long is delivery", k=1)[0].chunk
    assert (best.uri, best.heading_path, best.anchor) == (
        shop.url("/shipping.html"), ("Shipping",), "shipping")

    shop.write("/shipping.html", html_page("Shipping", "<h1>Shipping</h1>"
                                                       "<p>Express delivery takes one day.</p>"))
    shop.requests.clear()
    store, report = ingest.run()

    assert report.updated == [shipping]
    assert report.unchanged == [returns]  # fetched again, same hash, not re-chunked
    assert sorted(shop.fetched()) == ["/returns.html", "/shipping.html", "/sitemap.xml"]
    assert "Express delivery" in all_text(store) and "three working days" not in all_text(store)


def test_page_failures_are_skipped_without_stopping(tmp_path: Path, shop: Site) -> None:
    shop.write("/gifts.html", html_page("Gifts", "<h1>Gifts</h1><p>Gift wrap is free.</p>"))
    shop.sitemap(["/returns.html", "/shipping.html", "/gifts.html"])
    ingest = ingestor(tmp_path, web_source(shop))
    ingest.run()
    shop.status["/returns.html"] = 503  # transient: the indexed copy stays
    shop.status["/shipping.html"] = 404  # gone: dropped
    shop.sitemap(["/returns.html", "/shipping.html"])  # gifts left the site

    store, report = ingest.run()

    assert sorted(report.skipped) == [
        (f"shop:{shop.url('/returns.html')}", "HTTP 503 Service Unavailable"),
        (f"shop:{shop.url('/shipping.html')}", "HTTP 404 Not Found"),
    ]
    assert report.removed == [f"shop:{shop.url('/gifts.html')}"]
    text = all_text(store)
    assert "Unworn shoes" in text
    assert "three working days" not in text and "Gift wrap" not in text


def test_a_broken_child_sitemap_leaves_out_only_its_pages(tmp_path: Path, shop: Site) -> None:
    shop.sitemap(["/returns.html"], name="/sitemap-help.xml")
    shop.sitemap(["/shipping.html"], name="/sitemap-shop.xml")
    shop.sitemap_index(["/sitemap-help.xml", "/sitemap-shop.xml"])
    ingest = ingestor(tmp_path, web_source(shop, "/sitemap_index.xml"))
    returns, shipping = f"shop:{shop.url('/returns.html')}", f"shop:{shop.url('/shipping.html')}"
    child = f"shop:{shop.url('/sitemap-shop.xml')}"
    shop.status["/sitemap-shop.xml"] = 404

    store, report = ingest.run()

    assert report.added == [returns]
    assert report.skipped == [(child, "HTTP 404 Not Found")]
    assert "Unworn shoes" in all_text(store)

    del shop.status["/sitemap-shop.xml"]
    ingest.run()
    shop.status["/sitemap-shop.xml"] = 503  # transient: the pages it listed stay
    store, report = ingest.run()

    assert report.skipped == [(child, "HTTP 503 Service Unavailable")]
    assert report.removed == [] and sorted(report.unchanged) == [returns, shipping]
    assert "three working days" in all_text(store)


def test_an_unreachable_site_keeps_its_pages(tmp_path: Path, shop: Site, docs: Path) -> None:
    ingest = ingestor(tmp_path, folder_source(docs), web_source(shop))
    ingest.run()
    shop.status["/sitemap.xml"] = 502

    store, report = ingest.run()

    assert report.skipped == [(f"shop:{shop.url('/sitemap.xml')}", "HTTP 502 Bad Gateway")]
    assert not report.changed
    assert "three working days" in all_text(store)


def test_open_does_not_refetch_indexed_pages(tmp_path: Path, shop: Site, docs: Path) -> None:
    ingest = ingestor(tmp_path, folder_source(docs), web_source(shop))
    ingest.run()
    shop.requests.clear()

    assert "three working days" in all_text(ingest.open())
    (docs / "returns.md").write_text(RETURNS_MD + "\nExchanges are free.\n")
    store = ingest.open()  # a changed file is re-read; the site is not asked

    assert "Exchanges are free." in all_text(store)
    assert "three working days" in all_text(store)
    assert shop.fetched() == []

    shutil.rmtree(tmp_path / "index")
    assert "three working days" in all_text(ingest.open())  # no index: everything fetched
    assert sorted(shop.fetched()) == ["/returns.html", "/shipping.html", "/sitemap.xml"]


def test_open_fetches_a_site_the_index_has_no_pages_of(
    tmp_path: Path, shop: Site, docs: Path
) -> None:
    ingestor(tmp_path, folder_source(docs)).run()

    store = ingestor(tmp_path, folder_source(docs), web_source(shop)).open()

    assert top(store, "how long is delivery") == (shop.url("/shipping.html"), ("Shipping",), None)
    assert top(store, "are refurbished units covered") == ("warranty.pdf", (), 2)


def test_sitemap_entries_and_redirects_that_lead_inward_are_refused_and_reported(
    tmp_path: Path, shop: Site
) -> None:
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    with serving(tmp_path / "intranet") as intranet:
        intranet.write("/salaries.html", html_page("Salaries", "<p>Salary bands 2026.</p>"))
        secret = intranet.url("/salaries.html")
        shop.redirect["/old-returns.html"] = secret
        shop.redirect["/old-shipping.html"] = metadata
        shop.sitemap(["/returns.html", "/shipping.html", "/old-returns.html",
                      "/old-shipping.html", secret, metadata])

        store, report = ingestor(tmp_path, web_source(shop)).run()

        assert intranet.requests == []
    another = "is another site (allow_hosts names the hosts a source may lead to)"
    sitemap = shop.url("/sitemap.xml")
    assert sorted(report.skipped) == sorted([
        (f"shop:{shop.url('/old-returns.html')}",
         f"redirected to {secret}: 127.0.0.1:{intranet.port} {another}"),
        (f"shop:{shop.url('/old-shipping.html')}",
         f"redirected to {metadata}: 169.254.169.254 {another}"),
        (f"shop:{secret}", f"listed by {sitemap}, refused: 127.0.0.1:{intranet.port} {another}"),
        (f"shop:{metadata}", f"listed by {sitemap}, refused: 169.254.169.254 {another}"),
    ])
    assert sorted(report.added) == [f"shop:{shop.url('/returns.html')}",
                                    f"shop:{shop.url('/shipping.html')}"]
    assert "Salary" not in all_text(store) and "three working days" in all_text(store)


def test_a_reingest_downloads_only_the_pages_that_changed(tmp_path: Path, shop: Site) -> None:
    ingest = ingestor(tmp_path, web_source(shop))
    ingest.run()
    shop.answers.clear()

    _, report = ingest.run()

    assert sorted(report.unchanged) == [f"shop:{shop.url('/returns.html')}",
                                        f"shop:{shop.url('/shipping.html')}"]
    assert shop.downloaded() == ["/sitemap.xml"]  # the pages answered 304
    shop.write("/shipping.html", html_page("Shipping", "<h1>Shipping</h1><p>Now two days.</p>"))
    shop.answers.clear()

    store, report = ingest.run()

    assert report.updated == [f"shop:{shop.url('/shipping.html')}"]
    assert shop.downloaded() == ["/sitemap.xml", "/shipping.html"]
    assert "Now two days." in all_text(store)


@pytest.mark.parametrize("path", ["/returns.html", "/help"])
def test_a_single_page_source_is_asked_whether_it_changed(
    tmp_path: Path, shop: Site, path: str
) -> None:
    shop.redirect["/help"] = "/returns.html"
    ingest = ingestor(tmp_path, web_source(shop, path))
    ingest.run()
    shop.answers.clear()

    store, report = ingest.run()

    assert report.unchanged == [f"shop:{shop.url(path)}"]
    redirect = [("/help", 302)] if path == "/help" else []
    assert shop.answers == [("/robots.txt", 404), *redirect, ("/returns.html", 304)]
    assert "Unworn shoes" in all_text(store)


def test_links_out_of_the_folder_are_skipped_and_reported(tmp_path: Path, docs: Path) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "passwords.txt").write_text("root password is hunter2\n")
    (outside / "notes").mkdir()
    (outside / "notes" / "payroll.md").write_text("# Payroll\n\nSalaries are paid monthly.\n")
    (docs / "passwords.txt").symlink_to(outside / "passwords.txt")
    (docs / "notes" / "linked").symlink_to(outside / "notes", target_is_directory=True)
    (docs / "returns-again.md").symlink_to(docs / "returns.md")  # stays inside: indexed
    source = KnowledgeSource(name="docs", path=docs, include=["*.md", "*.txt", "*/*/*.md"])

    store, report = ingestor(tmp_path, source).run()

    assert sorted(report.skipped) == [
        ("docs:notes/linked/payroll.md", "a link out of the source folder, not followed"),
        ("docs:passwords.txt", "a link out of the source folder, not followed"),
    ]
    assert "docs:returns-again.md" in report.added
    assert "hunter2" not in all_text(store) and "Salaries" not in all_text(store)
