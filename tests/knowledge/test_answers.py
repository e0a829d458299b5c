"""The bot answers from every kind of source it can ingest, and cites the exact place."""

from __future__ import annotations

from pathlib import Path

from parley_bot.agents.bot import Bot
from tests.conftest import configure
from tests.knowledge.builders import docx_bytes, html_page, pdf_bytes
from tests.utils.messages import inbound
from tests.utils.site import Site


async def test_answers_cite_pdf_pages_docx_headings_html_sections_and_web_pages(
    bot_dir: Path, site: Site
) -> None:
    docs = bot_dir / "knowledge" / "docs"
    (docs / "rentals.pdf").write_bytes(pdf_bytes(
        ["Acme rents outdoor gear at every store.",
         "Kayak rentals cost 35 dollars per day, paddles and life vests included."],
        title="Gear rentals"))
    (docs / "gift-cards.docx").write_bytes(docx_bytes([
        ("Title", "Gift cards"), ("Heading 1", "Expiry"),
        ("Normal", "Acme gift cards never expire and work online and in stores."),
    ]))
    (docs / "trails.html").write_text(html_page("Trail report", (
        "<h1>Trail report</h1><h2 id='snow'>Snow conditions</h2>"
        "<p>The Flatirons trail is closed above the second saddle until the snowmelt.</p>")))
    site.write("/clinics.html", html_page("Clinics", (
        "<h1>Clinics</h1><p>Our free avalanche safety clinic runs every Thursday evening.</p>")))
    site.write("/repairs.html", html_page("Repairs", (
        "<h1>Repairs</h1><p>Zipper repairs on jackets take about one week.</p>")))
    site.sitemap(["/clinics.html", "/repairs.html"])
    config = configure(bot_dir, skills=[], knowledge={"sources": [
        {"name": "docs", "path": "knowledge/docs"},
        {"name": "site", "url": site.url("/sitemap.xml"), "allow_private": True},
    ]})

    async with Bot.open(config) as bot:
        kayak = await bot.handle(inbound("how much does a kayak rental cost?"))
        gift = await bot.handle(inbound("do gift cards expire?"))
        trail = await bot.handle(inbound("is the Flatirons trail closed because of snow?"))
        clinic = await bot.handle(inbound("when is the avalanche safety clinic?"))
        zipper = await bot.handle(inbound("how long do zipper repairs take?"))

    assert "35 dollars per day" in kayak.text
    assert [(c.uri, c.location, c.link) for c in kayak.citations] == [
        ("rentals.pdf", "p. 2", "rentals.pdf#page=2")]
    assert "never expire" in gift.text
    assert [(c.uri, c.location) for c in gift.citations] == [("gift-cards.docx", "Expiry")]
    assert "closed above the second saddle" in trail.text
    assert [(c.uri, c.anchor) for c in trail.citations] == [("trails.html", "snow")]
    assert "every Thursday evening" in clinic.text
    assert [c.uri for c in clinic.citations] == [site.url("/clinics.html")]
    assert "about one week" in zipper.text
    assert [c.uri for c in zipper.citations] == [site.url("/repairs.html")]
