"""The HTTP server every web-facing channel sits in: health, metrics, a JSON chat API,
transcripts.

Channel adapters (Slack, WhatsApp, the widget) add their routers to this app; they share
the one `Bot` opened in the lifespan. JSON API clients name conversations by bare ids
('c1'); the server stores them as 'api:c1', so the API cannot reach another channel's
conversations. The admin routes take a full key ('slack:T1:C2:1700000000.000100') and need
`Authorization: Bearer $PARLEY_API_TOKEN`; without that variable they are off.

`parley serve --workers N` runs N processes of `app_from_environment`, each with its own
bot on the one store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.errors import StoreError
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.settings import Settings
from parley_bot.agents.texts import localize
from parley_bot.channels import metrics
from parley_bot.channels.messages import (
    MAX_CONVERSATION_ID,
    Button,
    Citation,
    Feedback,
    InboundMessage,
    Turn,
    Usage,
    conversation_key,
    split_key,
)

FLOWS_VARIABLE = "PARLEY_FLOWS"
RELOAD_VARIABLE = "PARLEY_RELOAD"
PAGE = 50


class ChatRequest(BaseModel):
    conversation_id: str = Field(..., min_length=1, max_length=MAX_CONVERSATION_ID)
    text: str = Field(..., max_length=100_000)
    user_id: str | None = Field(
        None, max_length=MAX_CONVERSATION_ID,
        description="Who is writing; rate limits count per user. Default: the conversation id.",
    )


class ChatResponse(BaseModel):
    conversation_id: str
    turn_id: str | None
    reply: str
    citations: list[Citation]
    buttons: list[Button]
    skill: str | None
    usage: Usage | None
    fallback: bool


class ConversationResponse(BaseModel):
    conversation_id: str
    turns: list[Turn]
    before: str | None = Field(
        description="Pass as `before` for the previous page; None on the first page."
    )


class FeedbackRequest(BaseModel):
    turn_id: str
    rating: Literal[1, -1]
    comment: str | None = Field(None, max_length=4000)


async def _bot(request: Request) -> Bot:  # async: FastAPI runs a sync dependency in a thread
    bot: Bot = request.app.state.bot
    return bot


BotDep = Annotated[Bot, Depends(_bot)]
Limit = Annotated[int, Query(ge=1, le=500, description="Turns per page, the latest first.")]
Before = Annotated[str | None, Query(description="Only turns before this turn id.")]
_bearer = HTTPBearer(auto_error=False)


def create_app(config: FlowsConfig, settings: Settings | None = None, *,
               watch: Path | None = None, on_reload: Callable[[bool], None] | None = None,
               **bot_options: Any) -> FastAPI:
    """The FastAPI app for one bot; the bot opens with the app and closes with it.

    Args:
        config: the validated flows.yaml.
        settings: the environment; read at start when not given.
        watch: that flows.yaml, to reload the bot when it, tools/ or the index changes.
        on_reload: told whether each reload worked (tests wait on it).
        bot_options: passed to `Bot.open` (tests inject stores or models here).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Bot.open(config, **bot_options) as bot:
            app.state.bot = bot
            watcher = None
            if watch is not None:
                from parley_bot.agents.reload import watch as watch_files

                watcher = asyncio.create_task(watch_files(bot, watch, on_reload=on_reload))
            try:
                yield
            finally:
                if watcher is not None:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher

    app = FastAPI(title=f"parley: {config.name}", lifespan=lifespan)
    app.include_router(metrics.router)

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": localize(config.texts.unavailable)}, status_code=503)

    def admin(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                     Depends(_bearer)]) -> None:
        token = settings.parley_api_token
        if token is None:
            raise HTTPException(404, "admin routes are off: set PARLEY_API_TOKEN")
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise HTTPException(401, "a valid bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.get("/healthz")
    async def healthz(bot: BotDep) -> dict[str, str]:
        return {"status": "ok", "bot": bot.config.name}

    @app.post("/api/chat", responses={429: {}, 503: {}})
    async def chat(body: ChatRequest, bot: BotDep) -> ChatResponse:
        reply = await bot.handle(InboundMessage(
            channel="api", conversation_id=body.conversation_id,
            user_id=body.user_id or body.conversation_id, text=body.text,
        ))
        if reply.declined == "rate_limited":
            window = bot.config.guard.rate_limit.window_s
            raise HTTPException(429, reply.text, headers={"Retry-After": f"{window:.0f}"})
        if reply.declined is not None:
            raise HTTPException(503, reply.text)
        return ChatResponse(reply=reply.text, **reply.model_dump(exclude={"text", "declined"}))

    # ids may hold '/' (Slack threads), hence `:path`
    @app.get("/api/conversations/{conversation_id:path}")
    async def conversation(conversation_id: str, bot: BotDep, limit: Limit = PAGE,
                           before: Before = None) -> ConversationResponse:
        return await _page(bot, conversation_key("api", conversation_id), conversation_id,
                           limit, before)

    @app.delete("/api/conversations/{conversation_id:path}", status_code=204,
                description="Erase the conversation everywhere; nothing there is no error.")
    async def forget(conversation_id: str, bot: BotDep) -> Response:
        await bot.forget(conversation_key("api", conversation_id))
        return Response(status_code=204)

    @app.post("/api/feedback/{conversation_id:path}", status_code=204)
    async def feedback(conversation_id: str, body: FeedbackRequest, bot: BotDep) -> Response:
        rating = Feedback(rating=body.rating, comment=body.comment)
        if not await bot.feedback(conversation_key("api", conversation_id), body.turn_id,
                                  rating):
            raise HTTPException(404, f"no turn {body.turn_id!r} in {conversation_id!r}")
        return Response(status_code=204)

    @app.get("/api/admin/conversations/{key:path}", dependencies=[Depends(admin)])
    async def admin_conversation(key: str, bot: BotDep, limit: Limit = PAGE,
                                 before: Before = None) -> ConversationResponse:
        return await _page(bot, _full_key(key), key, limit, before)

    @app.delete("/api/admin/conversations/{key:path}", status_code=204,
                dependencies=[Depends(admin)])
    async def admin_forget(key: str, bot: BotDep) -> Response:
        await bot.forget(_full_key(key))
        return Response(status_code=204)

    return app


async def _page(bot: Bot, key: str, shown: str, limit: int, before: str | None
                ) -> ConversationResponse:
    turns = await bot.conversation(key, limit=limit + 1, before=before)
    if not turns:
        raise HTTPException(404, f"no conversation {shown!r}" if before is None
                            else f"no turns of {shown!r} before {before!r}")
    more, turns = len(turns) > limit, turns[-limit:]
    return ConversationResponse(conversation_id=shown, turns=turns,
                                before=turns[0].id if more else None)


def _full_key(key: str) -> str:
    try:
        split_key(key)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return key


def app_from_environment() -> FastAPI:
    """The app for the flows.yaml named by $PARLEY_FLOWS, reloaded on changes unless
    $PARLEY_RELOAD is '0': the factory each worker process of `parley serve --workers N`
    calls (uvicorn sets up each worker's logging as `serve` did)."""
    flows = Path(os.environ[FLOWS_VARIABLE])
    reload = os.environ.get(RELOAD_VARIABLE, "1") != "0"
    return create_app(load_flows(flows), watch=flows if reload else None)
