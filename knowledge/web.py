"""Fetch the pages of a `url:` knowledge source: one page, or every page a sitemap lists.

A sitemap index is followed one level down; a child sitemap that cannot be read is left out
(and reported), the others still count. As the sitemaps protocol requires, only pages on
the sitemap's own host are taken, at most `max_pages` of them, each at most `max_bytes`. A
page is parsed by its content type (HTML, PDF, Word, Markdown, plain text), else by the suffix
of its URL. Sitemaps are read with the standard library's expat parser, which fetches no
external entities and (expat >= 2.4) refuses entity-expansion bombs.

    KnowledgeError
    └── PageError     one URL could not be fetched or parsed; `transient` when a later try
                      may succeed (timeout, connection error, HTTP 429 or 5xx)
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import TracebackType
from xml.etree import ElementTree

import httpx

from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge.loaders import PARSERS, parse_bytes
from parley_bot.knowledge.types import Document

log = logging.getLogger(__name__)

USER_AGENT = "parley-ingest/0.1"
TIMEOUT = 20.0
MAX_PAGES = 500
MAX_BYTES = 20 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_TYPES = frozenset({"application/xml", "text/xml"})
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})
_SUFFIX_OF_TYPE = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/markdown": ".md",
    "text/plain": ".txt",
}


class PageError(KnowledgeError):
    """One URL could not be fetched or parsed; `reason` says why, without the URL."""

    def __init__(self, url: str, reason: str, *, transient: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True)
class _Response:
    url: str
    media_type: str
    charset: str | None
    content: bytes


class WebFetcher:
    """Lists and loads the pages of web sources over one connection pool.

    Use it as a context manager; the HTTP client is only opened by the first request.

    Args:
        timeout: seconds allowed for each connect, read and write.
        max_pages: the most pages one source (sitemap) yields; the rest are left out, logged.
        max_bytes: the largest page or sitemap accepted.
    """

    def __init__(
        self, *, timeout: float = TIMEOUT, max_pages: int = MAX_PAGES, max_bytes: int = MAX_BYTES
    ) -> None:
        if max_pages < 1 or max_bytes < 1 or timeout <= 0:
            raise ValueError(
                f"WebFetcher needs positive limits, got timeout={timeout!r}, "
                f"max_pages={max_pages!r}, max_bytes={max_bytes!r}"
            )
        self.timeout = timeout
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self._client: httpx.Client | None = None
        self._pending: dict[str, _Response] = {}

    def __enter__(self) -> WebFetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._pending.clear()

    def page_urls(self, url: str, failed: list[PageError] | None = None) -> list[str]:
        """The pages of a source: those its sitemap (or sitemap index) lists, or `[url]`.

        Args:
            url: a page, a sitemap, or a sitemap index.
            failed: where the errors of child sitemaps that cannot be fetched or read are
                appended (they are logged either way); the pages of the other children are
                still returned.

        Raises:
            PageError: `url` itself cannot be fetched or read.
        """
        response = self._get(url)
        if not _is_sitemap(response):
            self._pending[url] = response  # `load` takes it from here instead of fetching again
            return [url]
        kind, locations = self._sitemap(response)
        if kind == "sitemapindex":
            locations = self._children(url, locations, [] if failed is None else failed)
        if len(locations) > self.max_pages:
            log.warning("%s lists %d pages; only the first %d are indexed",
                        url, len(locations), self.max_pages)
        return locations[: self.max_pages]

    def _children(self, url: str, sitemaps: list[str], failed: list[PageError]) -> list[str]:
        """The pages the child sitemaps of index `url` list, in order, without repeats."""
        pages: dict[str, None] = {}
        for child in sitemaps:
            if len(pages) >= self.max_pages:
                break
            try:
                child_kind, child_pages = self._sitemap(self._get(child))
            except PageError as exc:
                log.warning("%s: sitemap %s left out: %s", url, child, exc.reason)
                failed.append(exc)
                continue
            if child_kind == "sitemapindex":
                log.warning("%s: nested sitemap index %s not followed", url, child)
                continue
            pages.update(dict.fromkeys(child_pages))
        return list(pages)

    def load(self, url: str, source: str) -> Document:
        """Fetch and parse one page; its uri is the URL it was served from (after redirects).

        Raises:
            PageError: the page cannot be fetched, is of an unsupported type, or has no text.
        """
        response = self._pending.pop(url, None) or self._get(url)
        suffix = _SUFFIX_OF_TYPE.get(response.media_type) or _suffix(response.url)
        parser = PARSERS.get(suffix or ".html")
        if parser is None:
            raise PageError(url, f"unsupported content type {response.media_type!r}")
        try:
            return parse_bytes(_as_utf8(response), parser, source, response.url)
        except KnowledgeError as exc:
            raise PageError(url, str(exc).removeprefix(f"{response.url}: ")) from exc

    def _get(self, url: str) -> _Response:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
            )
        try:
            with self._client.stream("GET", url) as response:
                status = response.status_code
                if status >= 400:
                    reason = f"HTTP {status} {response.reason_phrase}".rstrip()
                    raise PageError(url, reason, transient=status == 429 or status >= 500)
                content = self._read(url, response)
                media_type = response.headers.get("content-type", "").split(";")[0]
                return _Response(str(response.url), media_type.strip().lower(),
                                 response.charset_encoding, content)
        except httpx.TimeoutException as exc:
            raise PageError(url, f"timed out after {self.timeout:g}s", transient=True) from exc
        except httpx.UnsupportedProtocol as exc:
            raise PageError(url, "not an http(s) URL") from exc
        except httpx.TransportError as exc:
            raise PageError(url, f"connection failed ({exc or type(exc).__name__})",
                            transient=True) from exc
        except httpx.InvalidURL as exc:
            raise PageError(url, f"invalid URL ({exc})") from exc
        except httpx.HTTPError as exc:  # too many redirects, undecodable body
            raise PageError(url, f"{type(exc).__name__}: {exc}") from exc

    def _read(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise PageError(url, f"larger than {self.max_bytes:,} bytes ({int(declared):,})")
        parts: list[bytes] = []
        size = 0
        for part in response.iter_bytes():
            size += len(part)
            if size > self.max_bytes:
                raise PageError(url, f"larger than {self.max_bytes:,} bytes")
            parts.append(part)
        return b"".join(parts)

    def _sitemap(self, response: _Response) -> tuple[str, list[str]]:
        """('urlset' or 'sitemapindex', the `<loc>` URLs on the sitemap's host, in order)."""
        content = response.content
        if content[:2] == b"\x1f\x8b":  # a sitemap.xml.gz served as a file
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            content = inflate.decompress(content, self.max_bytes)
            if inflate.unconsumed_tail:
                raise PageError(response.url, f"sitemap larger than {self.max_bytes:,} bytes")
        try:
            root = ElementTree.fromstring(content)
        except ElementTree.ParseError as exc:
            raise PageError(response.url, f"not a readable sitemap ({exc})") from exc
        kind = _local(root.tag)
        if kind not in ("urlset", "sitemapindex"):
            raise PageError(response.url, f"not a sitemap (root element <{kind}>)")
        base = httpx.URL(response.url)
        found: dict[str, None] = {}
        for entry in root:
            for loc in entry:
                url = _same_site(base, loc.text or "") if _local(loc.tag) == "loc" else None
                if url is not None:
                    found[url] = None
        return kind, list(found)


def _is_sitemap(response: _Response) -> bool:
    if response.media_type in _XML_TYPES | _GZIP_TYPES:
        return True
    path = httpx.URL(response.url).path.lower()
    return response.media_type not in _HTML_TYPES and path.endswith((".xml", ".xml.gz"))


def _same_site(base: httpx.URL, location: str) -> str | None:
    """`location` without its fragment when it is on `base`'s scheme and host, else None."""
    location = location.strip()
    if not location:
        return None
    try:
        url = base.join(location).copy_with(fragment=None)
    except httpx.InvalidURL:
        return None
    if url.scheme != base.scheme or url.host != base.host or url.port != base.port:
        log.warning("%s: skipping %s (another site)", base, location)
        return None
    return str(url)


def _as_utf8(response: _Response) -> bytes:
    """The body as UTF-8 behind a BOM when the server named another charset: the header wins
    over a `<meta charset>` (as in a browser), and a BOM wins over both in every parser."""
    textual = response.media_type.startswith("text/") or response.media_type in _HTML_TYPES
    if response.charset is None or not textual or response.content.startswith(_BOM):
        return response.content
    try:
        text = response.content.decode(response.charset, errors="replace")
    except LookupError:  # a charset name Python does not know
        return response.content
    return _BOM + text.lstrip("\ufeff").encode("utf-8")


def _suffix(url: str) -> str:
    return PurePosixPath(httpx.URL(url).path).suffix.lower()


def _local(tag: str) -> str:
    """An XML tag without its namespace: '{http://www.sitemaps.org/...}loc' is 'loc'."""
    return tag.rpartition("}")[2]
