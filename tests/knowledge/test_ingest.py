"""Incremental ingest of folders and web sites into the on-disk index, then retrieval."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agents.config import KnowledgeConfig, KnowledgeSource
from knowledge.ingest import Ingestor
from knowledge.store import EmbeddedStore
from tests.knowledge.builders import docx_bytes, html_page, pdf_bytes
from tests.knowledge.conftest import Site

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


def test_a_second_run_reads_nothing_and_writes_nothing(tmp_path: Path, docs: Path) -> None:
    ingest = ingestor(tmp_path, folder_source(docs))
    ingest.run()
    manifest = tmp_path / "index" / "manifest.json"
    written = manifest.stat().st_mtime_ns
    os.utime(docs / "returns.md")  # touched, same bytes: read, hashed, not re-chunked

    store, report = ingest.run()

    assert sorted(report.unchanged) == KEYS
    assert not report.changed
    assert manifest.stat().st_mtime_ns == written
    assert top(store, "are refurbished units covered") == ("warranty.pdf", (), 2)


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


# --- web sites ----------------------------------------------------------------------------


@pytest.fixture
def shop(site: Site) -> Site:
    site.write("/returns.html", html_page("Returns", RETURNS_HTML))
    site.write("/shipping.html", html_page("Shipping", SHIPPING_HTML))
    site.sitemap(["/returns.html", "/shipping.html"])
    return site


RETURNS_HTML = "<h1>Returns</h1><p>Unworn shoes can be returned within 60 days.</p>"
SHIPPING_HTML = "<h1>Shipping</h1><p>Standard delivery takes three working days.</p>"


def web_source(site: Site) -> KnowledgeSource:
    return KnowledgeSource(name="shop", url=site.url("/sitemap.xml"))


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
