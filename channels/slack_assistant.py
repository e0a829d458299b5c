"""Slack's AI assistant threads (the app's own pane beside a conversation), through bolt's
`AsyncAssistant` middleware: a new thread is offered prompts drawn from the bot's skills;
a question there shows "is thinking…", and the first one names the thread (once, in
whichever worker: the store remembers it)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAssistant, AsyncBoltContext
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.scope import skill_topics

MAX_PROMPTS = 4  # Slack shows up to four
TITLE_CHARS = 75
THINKING = "is thinking…"
TITLED_TTL_S = 90 * 24 * 3600
Claimed = Callable[[], Awaitable[None]]
"""What to do once the event is claimed (a repeated delivery never gets there)."""
OnMessage = Callable[[dict[str, Any], dict[str, Any], AsyncBoltContext, AsyncWebClient,
                      Claimed], Awaitable[None]]


def suggested_prompts(config: FlowsConfig) -> list[dict[str, str]]:
    """One prompt per skill with examples: its topic as the title, its first example as
    what the user sends."""
    return [{"title": topic[:TITLE_CHARS], "message": skill.examples[0]}
            for topic, skill in zip(skill_topics(config), config.skills, strict=True)
            if skill.examples][:MAX_PROMPTS]


def title(text: str) -> str:
    """A thread's name from its first question: mentions (<@U…>) and links' markup taken
    out, cut to what Slack shows."""
    text = re.sub(r"<@[A-Z0-9]+>\s*", "", text)
    text = re.sub(r"<([^<>|]+)\|([^<>]+)>", r"\2", text)
    return " ".join(text.split())[:TITLE_CHARS]


def build_assistant(bot: Callable[[], Bot], on_message: OnMessage) -> AsyncAssistant:
    """The middleware; `on_message` answers a user's message as the channel does elsewhere."""
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def started(set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
        prompts = suggested_prompts(bot().config)
        if prompts:
            await set_suggested_prompts(prompts=prompts)

    @assistant.user_message
    async def asked(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext,
                    client: AsyncWebClient, set_status: AsyncSetStatus,
                    set_title: AsyncSetTitle) -> None:
        async def thinking() -> None:
            # a thread of a direct message that is no assistant thread refuses these: no matter
            titled = f"slack:titled:{event.get('channel')}:{event.get('thread_ts')}"
            with contextlib.suppress(SlackApiError):
                await set_status(THINKING)
                if await bot().store.put(titled, "1", TITLED_TTL_S, only_new=True):
                    await set_title(title(event.get("text", "")))
        await on_message(event, body, context, client, thinking)

    return assistant
