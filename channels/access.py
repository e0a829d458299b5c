"""Who may call the HTTP server and what it will read: the JSON API's bearer token, the body
size limit, and request bodies that never echo back or crash on bad text.

The JSON API (`/api/*`, `/metrics`) reads and writes any API conversation, so it needs
`Authorization: Bearer $PARLEY_API_TOKEN` when that is set. Unset, it is open only in
development on a loopback address (a developer's machine); in production it is off whatever the
address (behind a reverse proxy every visitor arrives from 127.0.0.1), and so on any
non-loopback address: such a server serves the channels (widget, Slack, WhatsApp) but no
transcripts.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Annotated, Literal
from urllib.parse import unquote_to_bytes

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

Mode = Literal["token", "open", "off"]
_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def is_loopback(host: str) -> bool:
    """Whether a listening address only takes connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


class ApiAccess:
    """The dependency guarding the JSON API (and, with `always_token`, the admin routes).

    Args:
        token: PARLEY_API_TOKEN, or None.
        host: the address the server listens on; None (in-process, tests) counts as loopback.
        production: PARLEY_ENV is 'production': no token means no JSON API, on any address.
    """

    def __init__(self, token: SecretStr | None, host: str | None, *,
                 production: bool = False) -> None:
        self.token = token.get_secret_value().encode() if token is not None else None
        local = not production and (host is None or is_loopback(host))
        self.mode: Mode = "token" if token is not None else "open" if local else "off"
        self.why = ("PARLEY_ENV is production" if production
                    else f"the server listens on {host}")

    def announce(self) -> None:
        """Say at start when the JSON API is off, and how to turn it on."""
        if self.mode == "off":
            log.warning("the JSON API (/api/*, /metrics) is off: %s and PARLEY_API_TOKEN is "
                        "unset; set PARLEY_API_TOKEN to turn it on (clients send "
                        "'Authorization: Bearer <token>')", self.why)

    async def api(self, credentials: Credentials) -> None:  # async: no thread per request
        """/api/* and /metrics."""
        if self.mode == "open":
            return
        if self.mode == "off":
            raise HTTPException(404, "the JSON API is off: set PARLEY_API_TOKEN to turn it on")
        self._check(credentials)

    async def admin(self, credentials: Credentials) -> None:
        """Admin routes reach every channel's conversations: a token always."""
        if self.token is None:
            raise HTTPException(404, "admin routes are off: set PARLEY_API_TOKEN")
        self._check(credentials)

    def _check(self, credentials: HTTPAuthorizationCredentials | None) -> None:
        assert self.token is not None
        given = credentials.credentials.encode() if credentials else b""
        if not hmac.compare_digest(given, self.token):
            raise HTTPException(401, "a valid bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})


class BodyTooLarge(HTTPException):
    """Raised while a body is read, so FastAPI answers 413 instead of its parse error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class BodyLimit:
    """ASGI middleware refusing request bodies over `max_bytes` with 413: at once from
    Content-Length, or as soon as the streamed bytes pass the limit (chunked uploads), so no
    body is held whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            status = 413 if length.isdigit() else 400
            detail = (BodyTooLarge(self.max_bytes).detail if status == 413
                      else "Content-Length is not a number")
            await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


class PathText:
    """ASGI middleware answering 400 to a path whose percent-escapes are not UTF-8 ('%FF'):
    decoded, it would reach the routes as replacement characters and come back in a 404."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                unquote_to_bytes(scope.get("raw_path") or b"").decode()
            except UnicodeDecodeError:
                response = JSONResponse({"detail": "the path is not valid UTF-8"},
                                        status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each problem's place and reason, without the request's values: error
    bodies never echo input back (it may be large, private, or not encodable). Undecodable
    text lands here too: pydantic's JSON parsing refuses non-UTF-8 bytes and lone surrogates
    ('\\ud800', legal in JSON) before any field sees them."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)
