"""The HTTP server every web-facing channel sits in: health, a JSON chat API, transcripts.

Channel adapters (Slack, WhatsApp, the widget) add their routers to this app; they share
the one `Bot` opened in the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig
from parley_bot.channels.messages import (
    MAX_CONVERSATION_ID,
    Button,
    Citation,
    InboundMessage,
    Turn,
    Usage,
)


class ChatRequest(BaseModel):
    conversation_id: str = Field(..., min_length=1, max_length=MAX_CONVERSATION_ID)
    text: str = Field(..., max_length=100_000)
    user_id: str = "api"


class ChatResponse(BaseModel):
    conversation_id: str
    reply: str
    citations: list[Citation]
    buttons: list[Button]
    skill: str | None
    usage: Usage | None
    fallback: bool


class ConversationResponse(BaseModel):
    conversation_id: str
    turns: list[Turn]


def _bot(request: Request) -> Bot:
    bot: Bot = request.app.state.bot
    return bot


BotDep = Annotated[Bot, Depends(_bot)]


def create_app(config: FlowsConfig, *, watch: Path | None = None,
               on_reload: Callable[[bool], None] | None = None, **bot_options: Any) -> FastAPI:
    """The FastAPI app for one bot; the bot opens with the app and closes with it.

    Args:
        config: the validated flows.yaml.
        watch: that flows.yaml, to reload the bot when it, tools/ or the index changes.
        on_reload: told whether each reload worked (tests wait on it).
        bot_options: passed to `Bot.open` (tests inject stores or models here).
    """

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

    @app.get("/healthz")
    async def healthz(bot: BotDep) -> dict[str, str]:
        return {"status": "ok", "bot": bot.config.name}

    @app.post("/api/chat")
    async def chat(body: ChatRequest, bot: BotDep) -> ChatResponse:
        reply = await bot.handle(InboundMessage(
            channel="api", conversation_id=body.conversation_id, user_id=body.user_id,
            text=body.text,
        ))
        return ChatResponse(reply=reply.text, **reply.model_dump(exclude={"text"}))

    @app.get("/api/conversations/{conversation_id:path}")  # ids may hold '/' (Slack threads)
    async def conversation(conversation_id: str, bot: BotDep) -> ConversationResponse:
        turns = await bot.conversation(conversation_id)
        if not turns:
            raise HTTPException(404, f"no conversation {conversation_id!r}")
        return ConversationResponse(conversation_id=conversation_id, turns=turns)

    return app
