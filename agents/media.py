"""Files users send: fetched by the channel, used by the turn.

Any channel whose platform hands out media URLs (Twilio, Slack) downloads them with
`download`, with its credentials and a size limit, and passes them to the bot as
`Attachment`s holding the bytes as a `data:` URL. The turn then sorts them (`kind_of`):
images for a model that can see, documents for the knowledge loaders, the rest unsupported.

Redirects are followed (Twilio answers a media URL with a redirect to its media host); httpx
does not send the credentials on to another host. A file over the limit is stopped while it
streams in, never read whole.
"""

from __future__ import annotations

import base64

import httpx

from parley_bot.agents.errors import ParleyError
from parley_bot.channels.messages import Attachment

TIMEOUT_S = 30.0
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


class MediaError(ParleyError):
    """A file the user sent cannot be taken: too large, or its download failed."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


async def download(client: httpx.AsyncClient, url: str, content_type: str, *,
                   max_bytes: int, auth: httpx.Auth | tuple[str, str] | None = None,
                   name: str | None = None) -> Attachment:
    """Fetch one file into an attachment carrying it as a `data:` URL.

    Args:
        client: the HTTP client to fetch with.
        url: where the platform serves the file.
        content_type: its type as the platform states it ('image/jpeg').
        max_bytes: a larger file is refused.
        auth: the platform's credentials (basic auth: (user, password)).
        name: the file's name, when the platform gives one.

    Raises:
        MediaError: the file is larger than `max_bytes`, or cannot be fetched.
    """
    try:
        async with client.stream("GET", url, auth=auth, follow_redirects=True,
                                 timeout=TIMEOUT_S) as response:
            response.raise_for_status()
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise _too_large(url, declared, max_bytes)
            data = bytearray()
            async for piece in response.aiter_bytes():
                data += piece
                if len(data) > max_bytes:
                    raise _too_large(url, len(data), max_bytes)
    except httpx.HTTPError as exc:
        raise MediaError(f"cannot fetch {url}: {exc}") from exc
    kind = content_type.split(";")[0].strip().lower() or "application/octet-stream"
    encoded = base64.b64encode(bytes(data)).decode()
    return Attachment(url=f"data:{kind};base64,{encoded}", content_type=kind, name=name)


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
    return MediaError(f"{url}: {size:,} bytes is over the limit of {limit:,}", too_large=True)
