"""Fetching web sources from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from parley_bot.knowledge.netguard import Scope
from parley_bot.knowledge.types import Document
from parley_bot.knowledge.web import PageError, WebFetcher
from tests.knowledge.builders import CHROME_WORDS, html_page, pdf_bytes
from tests.utils.site import Site, serving

RETURNS = html_page("Returns", '<h1>Returns</h1><p>Return unworn shoes within 60 days.</p>'
                               '<h2 id="refunds">Refunds</h2><p>Refunds reach your card in '
                               'five working days.</p>')
SHIPPING = html_page("Shipping", "<h1>Shipping</h1><p>Standard delivery takes three days.</p>")


@pytest.fixture
def web() -> WebFetcher:
    return WebFetcher(timeout=5)


def scope(site: Site, path: str = "/") -> Scope:
    """A source of the test site; on 127.0.0.1, so it opts in with `allow_private`."""
    return Scope(site.url(path), "help", allow_private=True)


def page(web: WebFetcher, site: Site, path: str) -> Document:
    """Load a page of the site that the fetcher has not fetched before."""
    fetched = web.load(site.url(path), scope(site, path))
    assert fetched.document is not None
    return fetched.document


def test_sitemap_lists_its_pages_on_the_same_site(site: Site, web: WebFetcher) -> None:
    site.write("/sitemap.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{site.url("/returns.html")}</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc> {site.url("/shipping.html#top")} </loc></url>
  <url><loc>{site.url("/returns.html")}</loc></url>
  <url><loc>https://elsewhere.example/phish.html</loc></url>
</urlset>""")
    with web:
        urls = web.page_urls(scope(site, "/sitemap.xml"))
    assert urls == [site.url("/returns.html"), site.url("/shipping.html")]
    assert site.fetched() == ["/sitemap.xml"]  # listing fetches no page


def test_sitemap_index_is_followed_one_level(site: Site, web: WebFetcher) -> None:
    site.sitemap(["/returns.html"], name="/sitemap-help.xml")
    site.sitemap(["/shipping.html", "/returns.html"], name="/sitemap-shop.xml")
    site.write("/sitemap-deeper.xml", f"""<sitemapindex
        xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sitemap><loc>{site.url("/sitemap-help.xml")}</loc></sitemap></sitemapindex>""")
    site.write("/sitemap_index.xml", f"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{site.url("/sitemap-help.xml")}</loc></sitemap>
  <sitemap><loc>{site.url("/sitemap-deeper.xml")}</loc></sitemap>
  <sitemap><loc>{site.url("/sitemap-shop.xml")}</loc></sitemap>
</sitemapindex>""")
    with web:
        urls = web.page_urls(scope(site, "/sitemap_index.xml"))
    assert urls == [site.url("/returns.html"), site.url("/shipping.html")]
    assert "/sitemap-help.xml" in site.fetched() and "/sitemap-deeper.xml" in site.fetched()
    assert site.fetched("/sitemap-help.xml") == ["/sitemap-help.xml"]  # not followed twice


def test_a_broken_child_sitemap_is_left_out_and_reported(site: Site, web: WebFetcher) -> None:
    site.sitemap(["/returns.html"], name="/sitemap-help.xml")
    site.write("/sitemap-torn.xml", "<urlset><url><loc>unclosed")
    site.sitemap(["/shipping.html"], name="/sitemap-shop.xml")
    site.status["/sitemap-shop.xml"] = 503
    site.sitemap_index(["/sitemap-torn.xml", "/sitemap-shop.xml", "/sitemap-help.xml"])
    failed: list[PageError] = []
    with web:
        urls = web.page_urls(scope(site, "/sitemap_index.xml"), failed)
    assert urls == [site.url("/returns.html")]
    assert [(e.url, e.reason.split(" (")[0], e.transient) for e in failed] == [
        (site.url("/sitemap-torn.xml"), "not a readable sitemap", False),
        (site.url("/sitemap-shop.xml"), "HTTP 503 Service Unavailable", True),
    ]


def test_gzipped_sitemap_is_read(site: Site, web: WebFetcher) -> None:
    site.sitemap(["/returns.html"])
    site.write("/sitemap.xml.gz", gzip.compress((site.root / "sitemap.xml").read_bytes()))
    with web:
        assert web.page_urls(scope(site, "/sitemap.xml.gz")) == [site.url("/returns.html")]


def test_max_pages_bounds_a_sitemap(site: Site) -> None:
    site.sitemap([f"/page-{n}.html" for n in range(30)])
    with WebFetcher(max_pages=5) as web:
        urls = web.page_urls(scope(site, "/sitemap.xml"))
    assert urls == [site.url(f"/page-{n}.html") for n in range(5)]


def test_a_page_url_is_its_own_list_and_is_fetched_once(site: Site, web: WebFetcher) -> None:
    site.write("/returns.html", RETURNS)
    with web:
        assert web.page_urls(scope(site, "/returns.html")) == [site.url("/returns.html")]
        document = page(web, site, "/returns.html")
    assert site.fetched() == ["/returns.html"]
    assert document.title == "Returns"
    assert document.source == "help"
    assert document.uri == site.url("/returns.html")


def test_a_page_is_parsed_without_its_chrome(site: Site, web: WebFetcher) -> None:
    site.write("/returns.html", RETURNS)
    with web:
        document = page(web, site, "/returns.html")
    assert [(s.heading_path, s.anchor) for s in document.sections] == [
        (("Returns",), "returns"), (("Returns", "Refunds"), "refunds")]
    text = " ".join(s.text for s in document.sections)
    assert "five working days" in text
    for word in CHROME_WORDS:
        assert word not in text, word


def test_requests_name_parley_as_the_user_agent(site: Site, web: WebFetcher) -> None:
    site.write("/returns.html", RETURNS)
    site.sitemap(["/returns.html"])
    with web:
        web.load(web.page_urls(scope(site, "/sitemap.xml"))[0], scope(site, "/sitemap.xml"))
    assert [path for path, _ in site.requests] == ["/robots.txt", "/sitemap.xml", "/returns.html"]
    assert all(agent.startswith("parley-ingest/") for _, agent in site.requests), site.requests


def test_a_pdf_on_the_site_is_parsed_as_a_pdf(site: Site, web: WebFetcher) -> None:
    site.write("/files/warranty.pdf", pdf_bytes(["Two-year warranty.", "Claims by email."]))
    with web:
        document = page(web, site, "/files/warranty.pdf")
    assert [s.page for s in document.sections] == [1, 2]


def test_the_charset_header_wins_over_the_meta_tag() -> None:
    body = html_page("Caf\u00e9", "<p>Cr\u00e8me br\u00fbl\u00e9e.</p>", charset="windows-1252")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            data = body.encode("utf-8")  # the meta tag is wrong; the header is right
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with WebFetcher(timeout=5) as web:
            url = f"http://127.0.0.1:{server.server_address[1]}/"
            document = web.load(url, Scope(url, "menu", allow_private=True)).document
    finally:
        server.shutdown()
        server.server_close()
    assert document.title == "Caf\u00e9"
    assert "Cr\u00e8me br\u00fbl\u00e9e." in document.sections[0].text


@pytest.mark.parametrize(
    ("status", "reason", "transient"),
    [(404, "HTTP 404 Not Found", False), (410, "HTTP 410 Gone", False),
     (503, "HTTP 503 Service Unavailable", True), (429, "HTTP 429 Too Many Requests", True)],
)
def test_http_errors_name_the_status(
    site: Site, web: WebFetcher, status: int, reason: str, transient: bool
) -> None:
    site.write("/returns.html", RETURNS)
    site.status["/returns.html"] = status
    with web, pytest.raises(PageError) as caught:
        page(web, site, "/returns.html")
    assert (caught.value.reason, caught.value.transient) == (reason, transient)
    assert str(caught.value) == f"{site.url('/returns.html')}: {reason}"


def test_a_closed_port_is_a_transient_connection_error(web: WebFetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nobody listens there
    with web, pytest.raises(PageError) as caught:
        web.page_urls(Scope(f"http://127.0.0.1:{port}/sitemap.xml", allow_private=True))
    assert "connection failed" in caught.value.reason
    assert caught.value.transient


def test_a_slow_page_times_out(site: Site) -> None:
    site.write("/slow.html", RETURNS)
    site.slow["/slow.html"] = 1.5
    with WebFetcher(timeout=0.3) as web, pytest.raises(PageError) as caught:
        page(web, site, "/slow.html")
    assert (caught.value.reason, caught.value.transient) == ("timed out after 0.3s", True)


def test_an_oversized_page_is_refused(site: Site) -> None:
    site.write("/big.html", html_page("Big", "<p>" + "word " * 5000 + "</p>"))
    with WebFetcher(max_bytes=10_000) as web, pytest.raises(PageError, match="larger than"):
        page(web, site, "/big.html")


@pytest.mark.parametrize(
    ("path", "content", "reason"),
    [
        ("/sitemap.xml", "<urlset><url><loc>unclosed", "not a readable sitemap"),
        ("/feed.xml", "<rss><channel/></rss>", "not a sitemap (root element <rss>)"),
    ],
)
def test_a_broken_sitemap_is_refused(
    site: Site, web: WebFetcher, path: str, content: str, reason: str
) -> None:
    site.write(path, content)
    with web, pytest.raises(PageError) as caught:
        web.page_urls(scope(site, path))
    assert caught.value.reason.startswith(reason)


def test_an_unsupported_type_and_an_empty_page_are_refused(site: Site, web: WebFetcher) -> None:
    site.write("/logo.png", b"\x89PNG\r\n\x1a\n")
    site.write("/empty.html", html_page("Empty", ""))
    with web:
        with pytest.raises(PageError, match="unsupported content type 'image/png'"):
            page(web, site, "/logo.png")
        with pytest.raises(PageError) as caught:
            page(web, site, "/empty.html")
    assert caught.value.reason == "no text found (empty file?)"
    assert not caught.value.transient


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pages=0"):
        WebFetcher(max_pages=0)


# --- where a source may lead --------------------------------------------------------------


def test_a_redirect_on_the_same_site_is_followed(site: Site, web: WebFetcher) -> None:
    site.write("/returns.html", RETURNS)
    site.redirect["/old-returns"] = "/returns.html"
    with web:
        document = page(web, site, "/old-returns")
    assert document.uri == site.url("/returns.html")


def test_redirects_elsewhere_are_refused_without_a_request(site: Site, web: WebFetcher) -> None:
    with serving(site.root.parent / "intranet") as intranet:
        intranet.write("/secret.html", html_page("Secret", "<p>Salaries.</p>"))
        site.redirect["/a"] = intranet.url("/secret.html")
        site.redirect["/b"] = "http://169.254.169.254/latest/meta-data/"
        with web:
            reasons = []
            for path in ("/a", "/b"):
                with pytest.raises(PageError) as caught:
                    page(web, site, path)
                reasons.append(caught.value.reason)
        assert intranet.requests == []
    assert reasons == [
        f"redirected to {intranet.url('/secret.html')}: 127.0.0.1:{intranet.port} is another "
        "site (allow_hosts names the hosts a source may lead to)",
        "redirected to http://169.254.169.254/latest/meta-data/: 169.254.169.254 is another "
        "site (allow_hosts names the hosts a source may lead to)",
    ]


def test_allow_hosts_does_not_open_private_addresses(site: Site, web: WebFetcher) -> None:
    site.redirect["/meta"] = "http://169.254.169.254/latest/meta-data/"
    with serving(site.root.parent / "intranet") as intranet:
        intranet.write("/secret.html", html_page("Secret", "<p>Salaries.</p>"))
        site.redirect["/intranet"] = intranet.url("/secret.html")
        source = Scope(site.url("/"), "help", frozenset({"127.0.0.1", "169.254.169.254"}),
                       allow_private=True)
        with web:
            with pytest.raises(PageError) as to_intranet:
                web.load(site.url("/intranet"), source)
            with pytest.raises(PageError) as to_metadata:
                web.load(site.url("/meta"), source)
        assert intranet.requests == []  # only the source's own port opted in
    assert to_intranet.value.reason == (f"redirected to {intranet.url('/secret.html')}: "
                                        "refused: 127.0.0.1 is a loopback address")
    assert to_metadata.value.reason == ("redirected to http://169.254.169.254/latest/meta-data/:"
                                        " refused: 169.254.169.254 is a cloud metadata address")


def test_a_private_address_needs_the_sources_opt_in(site: Site, web: WebFetcher) -> None:
    site.write("/returns.html", RETURNS)
    with web, pytest.raises(PageError) as caught:
        web.load(site.url("/returns.html"), Scope(site.url("/returns.html"), "help"))
    assert caught.value.reason == "refused: 127.0.0.1 is a loopback address"
    assert not caught.value.transient
    assert site.requests == []


def test_a_redirect_loop_ends(site: Site, web: WebFetcher) -> None:
    site.redirect["/a"] = "/b"
    site.redirect["/b"] = "/a"
    with web, pytest.raises(PageError, match="more than 5 redirects"):
        page(web, site, "/a")
    assert len(site.fetched()) == 6


# --- bounds and conditional requests -------------------------------------------------------


def test_a_page_that_trickles_is_cut_off_at_max_seconds() -> None:
    class Trickle(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path != "/notes.txt":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            with contextlib.suppress(OSError):  # the fetcher hangs up
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.01)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/notes.txt"
    try:
        # Each read is quick (well under `timeout`); the whole answer would take 10 s.
        with WebFetcher(timeout=5, max_seconds=0.3) as web, pytest.raises(PageError) as caught:
            web.load(url, Scope(url, allow_private=True))
    finally:
        server.shutdown()
        server.server_close()
    assert (caught.value.reason, caught.value.transient) == ("took longer than 0.3s", True)


@pytest.mark.parametrize("etags", [True, False])
def test_an_unchanged_page_is_not_downloaded_again(site: Site, etags: bool) -> None:
    site.etags = etags
    site.write("/returns.html", RETURNS)
    past = time.time() - 3600
    os.utime(site.root / "returns.html", (past, past))
    source = scope(site, "/returns.html")
    with WebFetcher() as web:
        first = web.load(site.url("/returns.html"), source)
        again = web.load(site.url("/returns.html"), source, first.validators)
        site.write("/returns.html", RETURNS.replace("60 days", "90 days"))
        changed = web.load(site.url("/returns.html"), source, first.validators)
    assert first.document is not None and (first.validators.etag is not None) == etags
    assert first.validators.last_modified is not None
    assert again.document is None and again.validators == first.validators
    assert changed.document is not None and changed.validators != first.validators
    assert site.answers[1:] == [("/returns.html", 200), ("/returns.html", 304),
                                ("/returns.html", 200)]
