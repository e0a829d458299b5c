"""The web widget's channel: sessions for allowed sites, chat over server-sent events,
feedback, and the history a reloaded page re-renders.

A page on an allowed origin asks `POST /web/session` for a token: signed (itsdangerous) and
expiring, it names one conversation, `web:<session>`, and nothing else can be asked of it, so
a token cannot reach another conversation. `POST /web/chat` answers with SSE events `token`
(more text), `reset` (drop what was shown), `reply` (the final reply) or `error`. The turn
runs in its own task: a browser that leaves mid-answer does not cancel it, and it is saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from importlib.resources import files
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, Field
from starlette.types import ASGIApp

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import WebChannel
from parley_bot.agents.settings import Settings
from parley_bot.agents.texts import localize
from parley_bot.channels.access import Credentials
from parley_bot.channels.messages import (
    Citation,
    Feedback,
    InboundMessage,
    OutboundMessage,
    StreamChunk,
    StreamReset,
    conversation_key,
)

log = logging.getLogger(__name__)
STATIC = files("parley_bot.channels") / "static"


class SessionRequest(BaseModel):
    token: str | None = Field(None, max_length=512, description="A session to resume.")


class ChatRequest(BaseModel):
    text: str = Field(..., min_length=1, max_length=100_000)
    token: str | None = Field(None, max_length=512, description="Or the Authorization header.")


class FeedbackRequest(BaseModel):
    turn_id: str = Field(..., max_length=64)
    rating: Literal[1, -1]
    token: str | None = Field(None, max_length=512)


def citation_json(citation: Citation) -> dict[str, str | None]:
    """A citation as the widget shows it: a link when it names a web page."""
    link = citation.link
    return {"title": citation.title, "label": citation.label,
            "link": link if link.startswith(("https://", "http://")) else None}


def reply_json(reply: OutboundMessage) -> dict[str, Any]:
    return {"text": reply.text, "turn_id": reply.turn_id,
            "citations": [citation_json(c) for c in reply.citations],
            "buttons": [b.model_dump() for b in reply.buttons]}


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def web_config(bot: Bot) -> WebChannel:
    """The running bot's web settings, read per request so a reload of flows.yaml applies at
    once; a reload that drops `channels.web` leaves only the server's own pages allowed."""
    return bot.config.channels.web or WebChannel()


class LiveCors(CORSMiddleware):
    """Starlette's CORS, asking `origins()` on each request instead of a list fixed at start."""

    def __init__(self, app: ASGIApp, origins: Callable[[], Sequence[str]]) -> None:
        super().__init__(app, allow_origins=(), allow_methods=["GET", "POST"],
                         allow_headers=["Authorization", "Content-Type"])
        self.origins = origins

    def is_allowed_origin(self, origin: str) -> bool:
        return origin in self.origins()


class Widget:
    """The widget's routes and the turns they started, for one app."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.session_secret()
        if secret is None:
            log.warning("PARLEY_SESSION_SECRET is unset: widget sessions are signed with a "
                        "random secret and end when this process stops")
            secret = secrets.token_urlsafe(32)
        self.signer = URLSafeTimedSerializer(secret, salt="parley.web.session")
        self.turns: set[asyncio.Task[None]] = set()
        self.router = APIRouter()
        self.router.add_api_route("/web/session", self.session, methods=["POST"])
        self.router.add_api_route("/web/chat", self.chat, methods=["POST"],
                                  response_class=StreamingResponse)
        self.router.add_api_route("/web/feedback", self.feedback, methods=["POST"],
                                  status_code=204)
        self.router.add_api_route("/web/history", self.history, methods=["GET"])
        self.router.add_api_route("/widget.js", self.script, methods=["GET"],
                                  include_in_schema=False)
        self.router.add_api_route("/", self.demo, methods=["GET"], include_in_schema=False)

    async def drain(self) -> None:
        """Wait for running turns (at shutdown, before the bot closes)."""
        await asyncio.gather(*self.turns, return_exceptions=True)

    def _origin(self, request: Request, *, required: bool) -> None:
        """403 unless the request comes from an allowed page, or the server's own pages.
        Browsers always send Origin on a POST; only `/web/session` insists on it."""
        origin = request.headers.get("origin")
        if origin is None and not required:
            return
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin not in (*web_config(request.app.state.bot).allowed_origins, own):
            raise HTTPException(403, "this site may not open chat sessions: add its origin "
                                "to flows.yaml's channels.web.allowed_origins")

    def _conversation(self, request: Request, header: HTTPAuthorizationCredentials | None,
                      token: str | None) -> str:
        """The session id a token names; 401 when it is missing, forged or expired."""
        self._origin(request, required=False)
        given = header.credentials if header else token
        if not given:
            raise HTTPException(401, "no session token: POST /web/session first")
        return self._verify(given, _ttl_s(request))[0]

    def _verify(self, token: str, ttl_s: int) -> tuple[str, float]:
        """The session a token names and when it was opened. A resumed session keeps its
        opening time, so it ends `ttl_s` after that however often it is resumed."""
        expired = HTTPException(401, "the session has expired: open a new one")
        try:
            payload = self.signer.loads(token, max_age=ttl_s)
        except SignatureExpired:
            raise expired from None
        except BadSignature:
            raise HTTPException(401, "the session token is not valid") from None
        match payload:
            case [str(session), int(opened) | float(opened)]:
                if time.time() - opened > ttl_s:
                    raise expired
                return session, opened
        raise HTTPException(401, "the session token is not valid")

    async def session(self, request: Request, body: SessionRequest) -> dict[str, Any]:
        """A token for a new conversation, or a fresh token for the one `body.token` names.
        New sessions count against `channels.web.sessions_per_minute` per client address."""
        self._origin(request, required=True)
        session, opened, resumed = secrets.token_urlsafe(18), time.time(), False
        if body.token:
            with contextlib.suppress(HTTPException):  # forged or expired: a new conversation
                (session, opened), resumed = self._verify(body.token, _ttl_s(request)), True
        if not resumed:  # else fresh sessions would each get a fresh rate limit
            bot: Bot = request.app.state.bot
            per_minute = web_config(bot).sessions_per_minute
            address = request.client.host if request.client else "unknown"
            if not await bot.store.allow({f"web-sessions:{address}": per_minute}, 60):
                raise HTTPException(429, "too many new chat sessions from this address; "
                                    "try again later", headers={"Retry-After": "60"})
        return {"token": self.signer.dumps([session, opened]), "session": session,
                "resumed": resumed,
                "expires_in_s": max(0, int(opened + _ttl_s(request) - time.time()))}

    async def chat(self, request: Request, body: ChatRequest,
                   header: Credentials) -> StreamingResponse:
        session = self._conversation(request, header, body.token)
        bot: Bot = request.app.state.bot
        message = InboundMessage(channel="web", conversation_id=session, user_id=session,
                                 text=body.text)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        task = asyncio.create_task(self._turn(bot, message, queue))
        self.turns.add(task)
        task.add_done_callback(self.turns.discard)
        return StreamingResponse(_drain(queue), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    async def _turn(self, bot: Bot, message: InboundMessage,
                    queue: asyncio.Queue[bytes | None]) -> None:
        """Run the turn to its end whatever happens to the request, putting events."""
        try:
            async for item in bot.stream(message):
                if isinstance(item, StreamChunk):
                    queue.put_nowait(event("token", {"text": item.delta}))
                elif isinstance(item, StreamReset):
                    queue.put_nowait(event("reset", {}))
                elif item.declined is not None:
                    queue.put_nowait(event("error", {"text": item.text, "code": item.declined}))
                else:
                    queue.put_nowait(event("reply", reply_json(item)))
        except Exception:
            log.exception("web turn failed (conversation=%s)", message.key)
            queue.put_nowait(event("error", {"text": localize(bot.config.error_answer),
                                             "code": "failed"}))
        finally:
            queue.put_nowait(None)

    async def feedback(self, request: Request, body: FeedbackRequest,
                       header: Credentials) -> Response:
        session = self._conversation(request, header, body.token)
        bot: Bot = request.app.state.bot
        if not await bot.feedback(conversation_key("web", session), body.turn_id,
                                  Feedback(rating=body.rating)):
            raise HTTPException(404, "no such turn in this conversation")
        return Response(status_code=204)

    async def history(self, request: Request, header: Credentials) -> dict[str, Any]:
        """The session's turns, oldest first, as the widget re-renders them."""
        session = self._conversation(request, header, None)
        bot: Bot = request.app.state.bot
        turns = await bot.conversation(conversation_key("web", session), limit=100)
        return {"turns": [{"turn_id": t.id, "user_text": t.user_text, "text": t.reply,
                           "citations": [citation_json(c) for c in t.citations],
                           "rating": t.feedback.rating if t.feedback else None}
                          for t in turns]}

    async def script(self) -> Response:
        return Response((STATIC / "widget.js").read_bytes(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300"})

    async def demo(self) -> HTMLResponse:
        return HTMLResponse((STATIC / "demo.html").read_text())


def _ttl_s(request: Request) -> int:
    return int(web_config(request.app.state.bot).session_ttl_days * 86400)


async def _drain(queue: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    while (item := await queue.get()) is not None:
        yield item
