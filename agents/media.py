"""Files users send: fetched by the channel, used by the turn.

Any channel whose platform hands out media URLs (Twilio, Slack) fetches them with a
`MediaFetcher` for that platform and passes them to the bot as `Attachment`s holding the
bytes as a `data:` URL. The turn then sorts them (`kind_of`): images for a model that can
see, documents for the knowledge loaders, the rest unsupported.

A media URL arrives in a request anyone could have shaped, so the fetcher trusts only its
platform: the first URL must be on one of the platform's hosts (`MediaSource.origins`), the
credentials go to those hosts only, never on along a redirect to another (Twilio redirects to
its media CDN, which needs none), and no hop connects to a private or loopback address except
one the platform is configured at (`knowledge.netguard`, checked where it connects). A file
over the limit is stopped while it streams in, never read whole.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Generator
from dataclasses import dataclass

import httpx

from parley_bot.agents.config import BotTexts
from parley_bot.agents.errors import ParleyError
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import Attachment
from parley_bot.knowledge.netguard import AddressRefused, GuardedBackend, guarded_transport

TIMEOUT_S = 30.0
MAX_REDIRECTS = 5
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
"""What chat models with vision take."""
DOCUMENT_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/html": ".html",
}
"""Document types and the suffix of the knowledge loader that reads them."""
Origin = tuple[str, int]
"""(host, port) as a connection is made: ('api.twilio.com', 443)."""


class MediaError(ParleyError):
    """A file the user sent cannot be taken: too large, refused, or its download failed."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class Bearer(httpx.Auth):
    """`Authorization: Bearer <token>` (Slack's files take the bot token so)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


@dataclass(frozen=True)
class MediaSource:
    """Where one platform's media may come from.

    Args:
        origins: the platform's hosts: a media URL must start on one, and only they get
            `auth`.
        auth: the platform's credentials: basic auth (user, password), or a `Bearer`.
        private_ok: origins that may be non-public addresses (a stand-in or staging
            platform configured by URL).
    """

    origins: frozenset[Origin]
    auth: tuple[str, str] | Bearer | None = None
    private_ok: frozenset[Origin] = frozenset()


class MediaFetcher:
    """Fetches one platform's media; a client per channel, closed with it."""

    def __init__(self, source: MediaSource) -> None:
        self.source = source
        self._client = httpx.Client(
            transport=guarded_transport(GuardedBackend(source.private_ok)), timeout=TIMEOUT_S)

    async def fetch(self, url: str, content_type: str, *, max_bytes: int,
                    name: str | None = None) -> Attachment:
        """One file as an attachment carrying it as a `data:` URL.

        Args:
            url: where the platform serves the file.
            content_type: its type as the platform states it ('image/jpeg').
            max_bytes: a larger file is refused.
            name: the file's name, when the platform gives one.

        Raises:
            MediaError: the URL is not the platform's, the file is larger than `max_bytes`,
                or it cannot be fetched.
        """
        if origin_of(url) not in self.source.origins:
            raise MediaError(f"{_shown(url)} is not on the platform's media hosts")
        data = await asyncio.to_thread(self._get, url, max_bytes)
        kind = content_type.split(";")[0].strip().lower() or "application/octet-stream"
        encoded = base64.b64encode(data).decode()
        return Attachment(url=f"data:{kind};base64,{encoded}", content_type=kind, name=name)

    def close(self) -> None:
        self._client.close()

    def _get(self, url: str, max_bytes: int) -> bytes:
        """The file's bytes, following redirects by hand: credentials only to `origins`."""
        try:
            for _ in range(MAX_REDIRECTS + 1):
                auth = self.source.auth if origin_of(url) in self.source.origins else None
                with self._client.stream("GET", url, auth=auth) as response:
                    if response.is_redirect:
                        url = str(response.url.join(response.headers["Location"]))
                        continue
                    response.raise_for_status()
                    declared = int(response.headers.get("Content-Length") or 0)
                    if declared > max_bytes:
                        raise _too_large(url, declared, max_bytes)
                    data = bytearray()
                    for piece in response.iter_bytes():
                        data += piece
                        if len(data) > max_bytes:
                            raise _too_large(url, len(data), max_bytes)
                    return bytes(data)
        except (httpx.HTTPError, AddressRefused, ValueError) as exc:
            raise MediaError(f"cannot fetch {_shown(url)}: {exc}") from exc
        raise MediaError(f"cannot fetch {_shown(url)}: more than {MAX_REDIRECTS} redirects")


def origin_of(url: str) -> Origin | None:
    """(host, port) of an http(s) URL; None for anything else."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return (parsed.host.lower(), parsed.port or default) if default else None


def refusal(exc: MediaError, texts: BotTexts, language: str | None, max_bytes: int) -> str:
    """What to tell a user whose file was not taken, in their language."""
    if exc.too_large:
        return localize(texts.attachment_too_large, language, limit_mb=max_bytes / 1e6)
    return localize(texts.attachment_failed, language)


def data_of(attachment: Attachment) -> bytes | None:
    """The bytes of an attachment fetched by `download`; None for one that only points at a
    file elsewhere."""
    head, comma, body = attachment.url.partition(",")
    if not (comma and head.startswith("data:") and head.endswith(";base64")):
        return None
    return base64.b64decode(body)


def kind_of(attachment: Attachment) -> str:
    """'image', 'document' or 'other', by the attachment's content type."""
    if attachment.content_type in IMAGE_TYPES:
        return "image"
    return "document" if attachment.content_type in DOCUMENT_TYPES else "other"


def name_of(attachment: Attachment) -> str:
    """The attachment's file name, or 'document.pdf' (by its type) when the platform gave none."""
    return attachment.name or f"document{DOCUMENT_TYPES.get(attachment.content_type, '')}"


def _too_large(url: str, size: int, limit: int) -> MediaError:
    return MediaError(f"{_shown(url)}: {size:,} bytes is over the limit of {limit:,}",
                      too_large=True)


def _shown(url: str) -> str:
    """A URL as a log may show it: at most 200 characters."""
    return url if len(url) <= 200 else f"{url[:200]}…"
