"""Fetch the pages of a `url:` knowledge source: one page, or every page a sitemap lists.

A web source is untrusted input that makes parley send requests, so every request is held to
the source's `Scope`:

- only the source's own site (scheme, host and port; http → https on the same host allowed)
  and the hosts in its `allow_hosts`: sitemap entries and redirects that lead elsewhere are
  refused and reported, never followed;
- only public addresses, checked where the connection is made (`knowledge.netguard`), unless
  the source has `allow_private` for its own host and port;
- robots.txt is honoured (`knowledge.robots`);
- each response is bounded in size (`max_bytes`) and time (`timeout` for each connect and
  read, `max_seconds` for the whole exchange, redirects included);
- a page fetched before is asked for with its ETag and Last-Modified, and a 304 answer
  means it is not downloaded again.

A sitemap index is followed one level down; a child sitemap that cannot be read is left out
(and reported), the others still count. At most `max_pages` pages a source. A page is parsed
by its content type (HTML, PDF, Word, Markdown, plain text), else by its URL's suffix.

    KnowledgeError
    └── PageError     one URL could not be fetched or parsed, or was refused; `transient`
                      when a later try may succeed (timeout, connection error, HTTP 429/5xx)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import TracebackType

import httpx

from parley_bot.agents.errors import KnowledgeError
from parley_bot.knowledge.loaders import PARSERS, parse_bytes
from parley_bot.knowledge.netguard import AddressRefused, GuardedBackend, Scope, guarded_transport
from parley_bot.knowledge.robots import Robots
from parley_bot.knowledge.sitemap import parse_sitemap
from parley_bot.knowledge.types import Document

log = logging.getLogger(__name__)

USER_AGENT = "parley-ingest/0.1"
TIMEOUT = 20.0
MAX_SECONDS = 120.0
MAX_PAGES = 500
MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5

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
class Validators:
    """What a server said identifies a page's version, sent back to ask 'changed since?'."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in sent.items() if value}


@dataclass(frozen=True)
class Fetched:
    """A loaded page: its document, or None when the server said it has not changed."""

    document: Document | None
    validators: Validators


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    media_type: str = ""
    charset: str | None = None
    content: bytes = b""
    validators: Validators = Validators()


class WebFetcher:
    """Lists and loads the pages of web sources over one connection pool.

    Use it as a context manager; the HTTP client is only opened by the first request.

    Args:
        timeout: seconds allowed for each connect, read and write.
        max_pages: the most pages one source (sitemap) yields; the rest are left out, logged.
        max_bytes: the largest page or sitemap accepted.
        max_seconds: the longest one URL may take, redirects and body included.
    """

    def __init__(
        self, *, timeout: float = TIMEOUT, max_pages: int = MAX_PAGES, max_bytes: int = MAX_BYTES,
        max_seconds: float = MAX_SECONDS,
    ) -> None:
        if max_pages < 1 or max_bytes < 1 or timeout <= 0 or max_seconds <= 0:
            raise ValueError(
                f"WebFetcher needs positive limits, got timeout={timeout!r}, "
                f"max_pages={max_pages!r}, max_bytes={max_bytes!r}, max_seconds={max_seconds!r}"
            )
        self.timeout = timeout
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self._guard = GuardedBackend()
        self._robots = Robots(self._robots_txt)
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

    def page_urls(
        self, scope: Scope, failed: list[PageError] | None = None,
        known: Mapping[str, Validators] | None = None,
    ) -> list[str]:
        """The pages of a source: those its sitemap (or sitemap index) lists, or its URL.

        Args:
            scope: the source.
            failed: where refused entries and the errors of child sitemaps that cannot be
                read are appended (they are logged either way); the other pages still count.
            known: validators of pages fetched before: a page source is asked 'changed?'.

        Raises:
            PageError: the source's URL itself cannot be fetched or read.
        """
        failed = [] if failed is None else failed
        url = scope.url
        response = self._get(url, scope, (known or {}).get(url))
        if response.status == 304 or not _is_sitemap(response):
            self._pending[url] = response  # `load` takes it from here instead of fetching again
            return [url]
        kind, locations = self._sitemap(response, scope, failed)
        if kind == "sitemapindex":
            locations = self._children(url, scope, locations, failed)
        if len(locations) > self.max_pages:
            log.warning("%s lists %d pages; only the first %d are indexed",
                        url, len(locations), self.max_pages)
        return locations[: self.max_pages]

    def load(self, url: str, scope: Scope, validators: Validators | None = None) -> Fetched:
        """Fetch and parse one page; its uri is the URL it was served from (after redirects).

        Args:
            url: a page of `scope`.
            scope: its source.
            validators: from the last time it was fetched; an unchanged page is not sent.

        Raises:
            PageError: the page cannot be fetched, is refused, is of an unsupported type,
                or has no text.
        """
        response = self._pending.pop(url, None) or self._get(url, scope, validators)
        if response.status == 304:
            return Fetched(None, response.validators)
        suffix = _SUFFIX_OF_TYPE.get(response.media_type) or _suffix(response.url)
        parser = PARSERS.get(suffix or ".html")
        if parser is None:
            raise PageError(url, f"unsupported content type {response.media_type!r}")
        try:
            document = parse_bytes(_as_utf8(response), parser, scope.source, response.url)
        except KnowledgeError as exc:
            raise PageError(url, str(exc).removeprefix(f"{response.url}: ")) from exc
        return Fetched(document, response.validators)

    def _children(
        self, url: str, scope: Scope, sitemaps: list[str], failed: list[PageError]
    ) -> list[str]:
        """The pages the child sitemaps of index `url` list, in order, without repeats."""
        pages: dict[str, None] = {}
        for child in sitemaps:
            if len(pages) >= self.max_pages:
                break
            try:
                child_kind, child_pages = self._sitemap(self._get(child, scope), scope, failed)
            except PageError as exc:
                log.warning("%s: sitemap %s left out: %s", url, child, exc.reason)
                failed.append(exc)
                continue
            if child_kind == "sitemapindex":
                log.warning("%s: nested sitemap index %s not followed", url, child)
                continue
            pages.update(dict.fromkeys(child_pages))
        return list(pages)

    def _sitemap(
        self, response: _Response, scope: Scope, failed: list[PageError]
    ) -> tuple[str, list[str]]:
        """The sitemap's kind and the URLs it lists that are inside `scope`, fragments
        dropped; the others are refused into `failed`."""
        try:
            kind, locations = parse_sitemap(response.content, self.max_bytes)
        except KnowledgeError as exc:
            raise PageError(response.url, str(exc)) from exc
        base = httpx.URL(response.url)
        found: dict[str, None] = {}
        for location in locations:
            try:
                url = str(base.join(location).copy_with(fragment=None))
            except httpx.InvalidURL:
                url = location
            reason = scope.refusal(url)
            if reason is None:
                found[url] = None
            else:
                log.warning("%s: refused %s: %s", response.url, location, reason)
                failed.append(PageError(url, f"listed by {response.url}, refused: {reason}"))
        return kind, list(found)

    def _get(self, url: str, scope: Scope, validators: Validators | None = None) -> _Response:
        """GET `url` within `scope`, following redirects that stay inside it.

        Raises:
            PageError: refused (scope, robots.txt, address), failed, or answered with an
                HTTP error (or a redirect that names no Location).
        """
        response = self._follow(url, scope, validators, robots=True)
        if response.status >= 300 and response.status != 304:
            status = response.status
            reason = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
            raise PageError(url, reason, transient=status == 429 or status >= 500)
        return response

    def _robots_txt(self, url: str) -> tuple[int, bytes]:
        response = self._follow(url, Scope(url), None, robots=False)
        return response.status, response.content

    def _follow(
        self, url: str, scope: Scope, validators: Validators | None, *, robots: bool
    ) -> _Response:
        if scope.allow_private:
            self._guard.private_ok.add(scope.origin)
        deadline = time.monotonic() + self.max_seconds
        hop = url
        for _ in range(MAX_REDIRECTS + 1):
            reason = scope.refusal(hop)
            if reason is not None:
                raise PageError(url, reason if hop == url else f"redirected to {hop}: {reason}")
            refused = self._robots.refusal(hop) if robots else None
            if refused is not None:
                raise PageError(url, refused[0], transient=refused[1])
            result = self._exchange(url, hop, validators, deadline)
            if isinstance(result, _Response):
                return result
            hop = result
        raise PageError(url, f"more than {MAX_REDIRECTS} redirects")

    def _exchange(
        self, url: str, hop: str, validators: Validators | None, deadline: float
    ) -> _Response | str:
        """One request: the response, or the URL a redirect points to."""
        headers = validators.headers() if validators else {}
        try:
            with self._http().stream("GET", hop, headers=headers) as response:
                location = response.headers.get("location")
                if response.is_redirect and location:
                    return str(response.url.join(location))
                found = Validators(response.headers.get("etag"),
                                   response.headers.get("last-modified"))
                if response.status_code == 304 and validators is not None:
                    found = Validators(found.etag or validators.etag,
                                       found.last_modified or validators.last_modified)
                    return _Response(str(response.url), 304, validators=found)
                if response.status_code >= 300:  # an error, or a redirect with no Location
                    return _Response(str(response.url), response.status_code)
                content = self._read(url, response, deadline)
                media_type = response.headers.get("content-type", "").split(";")[0]
                return _Response(str(response.url), response.status_code,
                                 media_type.strip().lower(), response.charset_encoding,
                                 content, found)
        except AddressRefused as exc:
            where = "" if hop == url else f"redirected to {hop}: "
            raise PageError(url, f"{where}refused: {exc.reason}") from exc
        except httpx.TimeoutException as exc:
            raise PageError(url, f"timed out after {self.timeout:g}s", transient=True) from exc
        except httpx.TransportError as exc:
            raise PageError(url, f"connection failed ({exc or type(exc).__name__})",
                            transient=True) from exc
        except httpx.InvalidURL as exc:
            raise PageError(url, f"invalid URL ({exc})") from exc
        except httpx.HTTPError as exc:  # an undecodable body
            raise PageError(url, f"{type(exc).__name__}: {exc}") from exc

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                transport=guarded_transport(self._guard), timeout=self.timeout,
                follow_redirects=False, headers={"User-Agent": USER_AGENT},
            )
        return self._client

    def _read(self, url: str, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise PageError(url, f"larger than {self.max_bytes:,} bytes ({int(declared):,})")
        parts: list[bytes] = []
        size = 0
        for part in response.iter_bytes():
            size += len(part)
            if size > self.max_bytes:
                raise PageError(url, f"larger than {self.max_bytes:,} bytes")
            if time.monotonic() > deadline:
                raise PageError(url, f"took longer than {self.max_seconds:g}s", transient=True)
            parts.append(part)
        return b"".join(parts)


def _is_sitemap(response: _Response) -> bool:
    if response.media_type in _XML_TYPES | _GZIP_TYPES:
        return True
    path = httpx.URL(response.url).path.lower()
    return response.media_type not in _HTML_TYPES and path.endswith((".xml", ".xml.gz"))


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
