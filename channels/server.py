"""The HTTP server every web-facing channel sits in: health, metrics, a JSON chat API,
transcripts.

Channel adapters (Slack, WhatsApp, the widget) add their routers to this app; they share
the one `Bot` opened in the lifespan. JSON API clients name conversations by bare ids
('c1'); the server stores them as 'api:c1', so the API cannot reach another channel's
conversations. The admin routes take a full key ('slack:T1:C2:1700000000.000100') and need
`Authorization: Bearer $PARLEY_API_TOKEN`; without that variable they are off. The JSON API
needs that token too when it is set (see `access`); the widget's routes (`web`) have their
own signed sessions.

`parley serve --workers N` runs N processes of `app_from_environment`, each with its own
bot on the one store.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.errors import StoreError
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.settings import Settings
from parley_bot.agents.texts import localize
from parley_bot.channels import metrics, slack, web
from parley_bot.channels.access import (
    ApiAccess,
    BodyLimit,
    PathText,
    validation_error,
)
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
from parley_bot.channels.twilio_account import TwilioAccount, twilio_account

if TYPE_CHECKING:
    from parley_bot.channels.whatsapp import WhatsApp

FLOWS_VARIABLE = "PARLEY_FLOWS"
RELOAD_VARIABLE = "PARLEY_RELOAD"
HOST_VARIABLE = "PARLEY_HOST"
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
    refused: str | None = Field(
        None, description="Why the guard answered the message itself: 'empty', 'too_long', "
        "'injection:<family>' or 'denied'; None for an ordinary answer.")


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


def create_app(config: FlowsConfig, settings: Settings | None = None, *,
               host: str | None = None, watch: Path | None = None,
               on_reload: Callable[[bool], None] | None = None,
               slack_socket: bool = False, **bot_options: Any) -> FastAPI:
    """The FastAPI app for one bot; the bot opens with the app and closes with it.

    Args:
        config: the validated flows.yaml.
        settings: the environment; read at start when not given.
        host: the address served on; without PARLEY_API_TOKEN the JSON API is open only in
            development on a loopback one. None (in-process clients) counts as loopback.
        watch: that flows.yaml, to reload the bot when it, tools/ or the index changes.
        on_reload: told whether each reload worked (tests wait on it).
        slack_socket: take Slack's events over Socket Mode too (`serve --slack-socket`).
        bot_options: passed to `Bot.open` (tests inject stores or models here).
    """
    settings = settings or Settings()
    twilio = twilio_account(config.channels.whatsapp, settings)
    access = ApiAccess(settings.parley_api_token, host,
                       production=settings.parley_env == "production")
    widget = web.Widget(settings) if config.channels.web else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Bot.open(config, **bot_options) as bot, \
                _whatsapp(bot, twilio) as whatsapp:
            app.state.bot = bot
            app.state.whatsapp = whatsapp
            watcher = None
            if watch is not None:
                from parley_bot.agents.reload import watch as watch_files

                watcher = asyncio.create_task(watch_files(bot, watch, on_reload=on_reload))
            access.announce()
            try:
                async with socket_mode or contextlib.nullcontext():
                    yield
            finally:
                if widget is not None:
                    await widget.drain()  # turns whose browser left still finish and save
                if watcher is not None:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher

    # no /docs or /redoc (Swagger from a CDN); the schema is part of the JSON API, locked alike
    app = FastAPI(title=f"parley: {config.name}", lifespan=lifespan, openapi_url=None,
                  docs_url=None, redoc_url=None)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(BodyLimit, max_bytes=config.server.max_body_bytes)
    app.add_middleware(PathText)
    if widget is not None:
        app.add_middleware(web.LiveCors, origins=lambda: web.web_config(
            app.state.bot).allowed_origins)
        app.include_router(widget.router)
    app.include_router(metrics.router, dependencies=[Depends(access.api)])
    if twilio is not None:
        from parley_bot.channels.whatsapp import whatsapp_router

        app.include_router(whatsapp_router(twilio))
    socket_mode = slack.mount(app, config, settings, socket=slack_socket)

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": localize(config.texts.unavailable)}, status_code=503)

    api = [Depends(access.api)]
    @app.get("/healthz")
    async def healthz(bot: BotDep) -> dict[str, str]:
        return {"status": "ok", "bot": bot.config.name}

    @app.get("/openapi.json", include_in_schema=False, dependencies=api)
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.post("/api/chat", responses={429: {}, 503: {}}, dependencies=api)
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
    @app.get("/api/conversations/{conversation_id:path}", dependencies=api)
    async def conversation(conversation_id: str, bot: BotDep, limit: Limit = PAGE,
                           before: Before = None) -> ConversationResponse:
        return await _page(bot, conversation_key("api", conversation_id), conversation_id,
                           limit, before)

    @app.delete("/api/conversations/{conversation_id:path}", status_code=204, dependencies=api,
                description="Erase the conversation everywhere; nothing there is no error.")
    async def forget(conversation_id: str, bot: BotDep) -> Response:
        await bot.forget(conversation_key("api", conversation_id))
        return Response(status_code=204)

    @app.post("/api/feedback/{conversation_id:path}", status_code=204, dependencies=api)
    async def feedback(conversation_id: str, body: FeedbackRequest, bot: BotDep) -> Response:
        rating = Feedback(rating=body.rating, comment=body.comment)
        if not await bot.feedback(conversation_key("api", conversation_id), body.turn_id,
                                  rating):
            raise HTTPException(404, "no such turn in this conversation")
        return Response(status_code=204)

    @app.get("/api/admin/conversations/{key:path}", dependencies=[Depends(access.admin)])
    async def admin_conversation(key: str, bot: BotDep, limit: Limit = PAGE,
                                 before: Before = None) -> ConversationResponse:
        return await _page(bot, _full_key(key), key, limit, before)

    @app.delete("/api/admin/conversations/{key:path}", status_code=204,
                dependencies=[Depends(access.admin)])
    async def admin_forget(key: str, bot: BotDep) -> Response:
        await bot.forget(_full_key(key))
        return Response(status_code=204)

    return app


@asynccontextmanager
async def _whatsapp(bot: Bot, account: TwilioAccount | None) -> AsyncIterator[WhatsApp | None]:
    """The WhatsApp channel over `bot` when its account is set (twilio loads only then)."""
    if account is None:
        yield None
        return
    from parley_bot.channels.whatsapp import WhatsApp

    channel = WhatsApp(bot, account)
    try:
        yield channel
    finally:
        await channel.aclose()


async def _page(bot: Bot, key: str, shown: str, limit: int, before: str | None
                ) -> ConversationResponse:
    turns = await bot.conversation(key, limit=limit + 1, before=before)
    if not turns:
        raise HTTPException(404, "no such conversation" if before is None
                            else "no turns before that turn in this conversation")
    more, turns = len(turns) > limit, turns[-limit:]
    return ConversationResponse(conversation_id=shown, turns=turns,
                                before=turns[0].id if more else None)


def _full_key(key: str) -> str:
    try:
        split_key(key)
    except ValueError:
        raise HTTPException(422, "the key is not '<channel>:<id>' with a known channel") from None
    return key


def app_from_environment() -> FastAPI:
    """The app for the flows.yaml named by $PARLEY_FLOWS, reloaded on changes unless
    $PARLEY_RELOAD is '0': the factory each worker process of `parley serve --workers N`
    calls (uvicorn sets up each worker's logging as `serve` did)."""
    flows = Path(os.environ[FLOWS_VARIABLE])
    reload = os.environ.get(RELOAD_VARIABLE, "1") != "0"
    app = create_app(load_flows(flows), host=os.environ.get(HOST_VARIABLE),
                     watch=flows if reload else None)
    # What is loaded by now (modules, flows, the index) lives as long as the process: frozen,
    # the garbage collector stops rescanning it, which took a sixth of a turn's CPU.
    gc.freeze()
    return app
