"""The Slack channel, on slack-bolt's `AsyncApp`: mentions in channels and direct messages are
answered in their thread; button clicks are the user's next turn; a thumbs reaction on an
answer rates its turn.

Bolt verifies each request's signature (401 otherwise) and acknowledges events at once; the
turn runs after the HTTP response, so Slack never waits on the model. Slack redelivers an
event it thinks was lost (`X-Slack-Retry-Num`) and may deliver one twice: every delivery is
claimed by its event id in the shared store (`Bot.claim`) and only the first, in whichever
worker process, is answered.

`parley serve --slack-socket` takes the same events over Socket Mode (a websocket the app
opens to Slack), for a laptop that Slack cannot reach.

A thread is one conversation, `slack:<team>:<channel>:<thread_ts>`; a direct message channel
is one, `slack:<team>:<channel>`, for the messages written outside threads. Threads of
direct messages are Slack's AI assistant threads (`slack_assistant`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig, SlackChannel
from parley_bot.agents.errors import ParleyError
from parley_bot.agents.media import (
    Bearer,
    MediaError,
    MediaFetcher,
    MediaSource,
    origin_of,
    refusal,
)
from parley_bot.agents.settings import Settings
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import Attachment, Feedback, InboundMessage
from parley_bot.channels.slack_assistant import Claimed, build_assistant
from parley_bot.channels.slack_payloads import (
    Action,
    Click,
    MessageEvent,
    Reaction,
    read,
    rejection,
)
from parley_bot.channels.slack_render import ACTION_PREFIX
from parley_bot.channels.slack_reply import Streaming, Where, post_reply
from parley_bot.knowledge.languages import language_of

log = logging.getLogger("parley.slack")

ANSWER_TTL_S = 90 * 24 * 3600
"""How long a posted answer can still be rated with a reaction."""
RATINGS = {"+1": 1, "thumbsup": 1, "-1": -1, "thumbsdown": -1}
SLACK_FILES = ("files.slack.com", 443)
ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}
"""Plain messages, shared files and thread broadcasts; not edits (message_changed), deletions
(message_deleted), other bots' posts (bot_message) or notices (channel_join, …)."""


@dataclass(frozen=True)
class _Replies:
    """What every reply of one app shares: whether streams work, and the file fetcher."""

    streaming: Streaming
    files: MediaFetcher


def file_source(found: SlackCredentials) -> MediaSource:
    """Slack's file host, and SLACK_API_URL's (a stand-in may serve files): the only ones
    given the bot token."""
    configured = origin_of(found.api_url)
    extra = frozenset({configured}) if configured and configured != SLACK_FILES else frozenset()
    return MediaSource(origins=frozenset({SLACK_FILES}) | extra, auth=Bearer(found.bot_token),
                       private_ok=extra)


@dataclass(frozen=True)
class SlackCredentials:
    signing_secret: str | None = field(repr=False)
    bot_token: str = field(repr=False)
    api_url: str
    app_token: str | None = field(default=None, repr=False)


def credentials(config: FlowsConfig, settings: Settings, *,
                socket: bool = False) -> SlackCredentials | None:
    """The Slack app's secrets, or None when the channel is off: it is on when its signing
    secret is set (Slack posts to /slack/events) or with `socket` (Socket Mode).

    flows.yaml's `channels.slack` may name other variables than SLACK_SIGNING_SECRET and
    SLACK_BOT_TOKEN; those are read from the environment or `.env`, as Settings reads its own.

    Raises:
        ParleyError: the bot token is missing, or the app token Socket Mode needs.
    """
    names = config.channels.slack or SlackChannel()
    secret = settings.named(names.signing_secret_env, "slack_signing_secret")
    if not secret and not socket:
        log.info("Slack is off: %s is not set", names.signing_secret_env)
        return None
    token = settings.named(names.bot_token_env, "slack_bot_token")
    if not token:
        raise ParleyError(f"{names.bot_token_env} is not set: the Slack channel needs the "
                          "app's bot token (xoxb-…) to reply")
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    if socket and not app_token:
        raise ParleyError("SLACK_APP_TOKEN is not set: Socket Mode needs the app-level token "
                          "(xapp-…, with the connections:write scope)")
    log.info("Slack is on: %s", "Socket Mode" if socket else (
        f"{names.signing_secret_env} is set; Slack posts to /slack/events and "
        "/slack/interactions"))
    return SlackCredentials(secret, token, settings.slack_api_url, app_token)


def mount(app: FastAPI, config: FlowsConfig, settings: Settings, *,
          socket: bool = False) -> AbstractAsyncContextManager[None] | None:
    """Add POST /slack/events and /slack/interactions to `app` when the signing secret is
    set; the listeners use the bot the app's lifespan opens (`app.state.bot`).

    Returns:
        With `socket`, the Socket Mode connection for the lifespan to open and close.
    """
    found = credentials(config, settings, socket=socket)
    if found is None:
        return None
    bolt = build_app(found, lambda: app.state.bot)
    if found.signing_secret:
        handler, verifier = AsyncSlackRequestHandler(bolt), SignatureVerifier(found.signing_secret)

        async def slack(request: Request) -> Response:
            return await rejection(request, verifier) or await handler.handle(request)

        for path in ("/slack/events", "/slack/interactions"):
            app.add_api_route(path, slack, methods=["POST"], include_in_schema=False)
    return _connected(bolt, found.app_token) if socket and found.app_token else None


@asynccontextmanager
async def _connected(bolt: AsyncApp, app_token: str) -> AsyncIterator[None]:
    """Socket Mode's websocket, open for the block (slack_sdk reconnects it as needed). Made
    here, in the running event loop, which its aiohttp session needs."""
    handler = AsyncSocketModeHandler(bolt, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


def build_app(found: SlackCredentials, bot: Callable[[], Bot]) -> AsyncApp:
    """A bolt app answering with the bot `bot()` returns (the one open at the time)."""
    client = AsyncWebClient(token=found.bot_token, base_url=found.api_url, retry_handlers=[
        AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=3)])
    app = AsyncApp(client=client, signing_secret=found.signing_secret or "", logger=log)
    replies = _Replies(Streaming(), MediaFetcher(file_source(found)))

    async def answer(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext,
                     client: AsyncWebClient) -> None:
        await _message(bot(), client, replies, event, body, context)

    async def assisted(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext,
                       client: AsyncWebClient, claimed: Claimed) -> None:
        await _message(bot(), client, replies, event, body, context, claimed)

    app.use(build_assistant(bot, assisted))  # takes the messages of DM threads

    app.event("app_mention")(answer)

    @app.event("message")
    async def messaged(event: dict[str, Any], body: dict[str, Any],
                       context: AsyncBoltContext, client: AsyncWebClient) -> None:
        if event.get("channel_type") == "im":  # in channels, mentions come as app_mention
            await answer(event, body, context, client)

    @app.action(re.compile(rf"^{ACTION_PREFIX}\d+$"))
    async def clicked(ack: Callable[[], Any], body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
        await ack()
        click, pressed = read(Click, body, "click"), read(Action, action, "button action")
        if click is None or pressed is None:
            return
        channel = click.channel.id
        dm = channel.startswith("D")  # interactions carry no channel type
        thread = _thread(click.message.thread_ts, click.message.ts, dm)
        where = Where(channel, thread, click.team.id, click.user.id)
        message = InboundMessage(
            channel="slack", conversation_id=_conversation(where.team, channel, thread),
            user_id=where.user, text=pressed.value, event_id=f"action:{pressed.action_ts}")
        await _answer(bot(), client, replies, message, where)

    @app.event("reaction_added")
    async def reacted(event: dict[str, Any]) -> None:
        reaction = read(Reaction, event, "reaction")
        if reaction is None:
            return
        rating, item = RATINGS.get(reaction.reaction.split("::")[0]), reaction.item
        if rating is None or item.type != "message" or not (item.channel and item.ts):
            return
        opened = bot()
        stored = await opened.store.get(_answer_key(item.channel, item.ts))
        if stored is not None:
            key, turn, *asker = json.loads(stored)  # others' reactions are no rating
            if asker and reaction.user != asker[0]:
                log.info("a reaction of %s to %s's answer is no rating", reaction.user, asker[0])
                return
            await opened.feedback(key, turn, Feedback(rating=rating))

    _acknowledge_the_rest(app)
    return app


def _acknowledge_the_rest(app: AsyncApp) -> None:
    """200 for the events and interactions the channel does not take (other buttons,
    shortcuts, modals, event types the app is subscribed to for others), where bolt would
    answer 404 and Slack would show the user an error. Registered last: bolt runs the first
    listener that matches."""
    anything = re.compile(".*")

    async def acknowledged(ack: Callable[[], Any]) -> None:
        await ack()

    app.event(anything)(acknowledged)
    for register in (app.action, app.shortcut, app.view, app.options):
        register(anything)(acknowledged)


def _ignored(event: dict[str, Any], context: AsyncBoltContext) -> bool:
    """Bots' messages (ours included), edits, deletions and other non-messages."""
    return (event.get("subtype") not in ANSWERED_SUBTYPES or bool(event.get("bot_id"))
            or event.get("user") in (None, context.bot_user_id))


async def _message(bot: Bot, client: AsyncWebClient, replies: _Replies,
                   event: dict[str, Any], body: dict[str, Any],
                   context: AsyncBoltContext, claimed: Claimed | None = None) -> None:
    if _ignored(event, context):
        return
    got = read(MessageEvent, event, f"{event.get('type')} event")
    team = body.get("team_id") or (got.team if got else None)
    if got is None or not isinstance(team, str):
        return
    thread = _thread(got.thread_ts, got.ts, got.channel_type == "im")
    text = re.sub(rf"<@{re.escape(context.bot_user_id or '')}>\s*", "", got.text)
    message = InboundMessage(
        channel="slack", conversation_id=_conversation(team, got.channel, thread),
        user_id=got.user, text=text.strip(), event_id=body.get("event_id"),
        attachments=tuple(Attachment(url=f.url_private, name=f.name, content_type=f.mimetype)
                          for f in got.files if f.url_private))
    await _answer(bot, client, replies, message, Where(got.channel, thread, team, got.user),
                  claimed)


def _thread(thread_ts: str | None, ts: str | None, dm: bool) -> str | None:
    """The thread a reply goes into: the message's thread, or a new one under it; None in a
    direct message written outside a thread (there the reply follows it)."""
    return thread_ts or (None if dm else ts)


def _conversation(team: str, channel: str, thread: str | None) -> str:
    """'<team>:<channel>:<thread>' for a thread, '<team>:<channel>' for a direct message."""
    return f"{team}:{channel}:{thread}" if thread else f"{team}:{channel}"


async def _answer(bot: Bot, client: AsyncWebClient, replies: _Replies,
                  message: InboundMessage, where: Where, claimed: Claimed | None = None) -> None:
    """Run the turn and post its reply, once per event (`claimed` runs once it is this
    process's to answer); failures are logged, never raised (the event was acknowledged
    already)."""
    ids = f"conversation={message.key} event={message.event_id}"
    try:
        if not await bot.claim(message):
            log.info("dropped a repeated delivery (%s)", ids)
            return
        if claimed is not None:
            await claimed()
        if message.attachments:
            fetched = await _files(bot, client, replies.files, message, where)
            if fetched is None:
                return
            message = message.model_copy(update={"attachments": fetched})
        posted = await post_reply(client, where, bot.stream(message), replies.streaming,
                                  error_text=localize(bot.config.error_answer))
        if posted.reply.turn_id is not None:
            await bot.store.put(_answer_key(where.channel, posted.ts), json.dumps(
                [message.key, posted.reply.turn_id, message.user_id]), ANSWER_TTL_S)
    except SlackApiError as exc:
        log.error("Slack refused the reply (%s): %s", ids, exc.response.get("error"))
    except Exception:
        log.exception("the Slack reply failed (%s)", ids)


async def _files(bot: Bot, client: AsyncWebClient, files: MediaFetcher,
                 message: InboundMessage, where: Where) -> tuple[Attachment, ...] | None:
    """The message's files, downloaded with the bot token; None when one is refused (too
    large, not Slack's, failed), after telling the user why in the thread."""
    limit = (bot.config.channels.slack or SlackChannel()).max_file_bytes
    try:
        return tuple([await files.fetch(f.url, f.content_type, max_bytes=limit, name=f.name)
                      for f in message.attachments])
    except MediaError as exc:
        log.warning("file refused (conversation=%s event=%s): %s", message.key,
                    message.event_id, exc)
        await client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, text=(
            refusal(exc, bot.config.texts, language_of(message.text), limit)))
        return None


def _answer_key(channel: str, ts: str) -> str:
    return f"slack:answer:{channel}:{ts}"
