"""One reply in Slack, shown as it is written.

In a thread, the reply is a Slack stream (`chat.startStream`, then `chat.appendStream` with
the new text, `chat.stopStream` adding the sources and buttons). Where the workspace refuses
streams, and in direct messages outside a thread (streams need one), a placeholder message is
posted at once and edited with `chat.update`. Either way the text is sent at most once per
`interval` seconds, within Slack's per-message rate limits.

The raw stream methods are used rather than slack_sdk's `chat_stream` helper: the helper
starts its stream only once 256 characters are buffered, so a refusal would come after text
was taken from the bot; starting up front leaves the placeholder path intact to fall back on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from parley_bot.channels.messages import OutboundMessage, StreamChunk, StreamReset
from parley_bot.channels.slack_render import blocks, mrkdwn

PLACEHOLDER = "…"
PLACE_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "thread_not_found",
                "invalid_auth", "account_inactive", "token_revoked", "ratelimited"}
"""Refusals about this place or these credentials, not about streams: they leave streams
on for the next replies."""
UPDATE_INTERVAL_S = 1.0

log = logging.getLogger("parley.slack")
Stream = AsyncIterator[StreamChunk | StreamReset | OutboundMessage]


@dataclass(frozen=True)
class Where:
    """Where a reply goes, and to whom (streams in channels name their recipient)."""

    channel: str
    thread_ts: str | None
    team: str
    user: str


@dataclass(frozen=True)
class Posted:
    """Where a reply was posted, and what it ended as."""

    channel: str
    ts: str
    reply: OutboundMessage


@dataclass
class Streaming:
    """Whether to try Slack's stream methods; off for the process once Slack refuses one."""

    enabled: bool = True


async def post_reply(client: AsyncWebClient, where: Where, stream: Stream,
                     streaming: Streaming, interval: float = UPDATE_INTERVAL_S) -> Posted:
    """Post `stream` (a `Bot.stream`) as one message.

    Raises:
        SlackApiError: Slack refused a call (after slack_sdk's retries of rate limits).
    """
    if streaming.enabled and where.thread_ts is not None:
        try:
            started = await client.chat_startStream(
                channel=where.channel, thread_ts=where.thread_ts,
                recipient_team_id=where.team, recipient_user_id=where.user)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in PLACE_ERRORS:
                log.info("Slack refused a stream (%s): replies are edited messages from now on",
                         error)
                streaming.enabled = False
        else:
            return await _streamed(client, where.channel, str(started["ts"]), stream, interval)
    posted = await client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts,
                                           text=PLACEHOLDER)
    return await _edited(client, where.channel, str(posted["ts"]), stream, interval)


async def _streamed(client: AsyncWebClient, channel: str, ts: str, stream: Stream,
                    interval: float) -> Posted:
    sent, text, last = 0, "", time.monotonic()
    async for item in stream:
        if isinstance(item, StreamReset):  # a stream cannot take text back: edit it instead
            await client.chat_stopStream(channel=channel, ts=ts)
            return await _edited(client, channel, ts, stream, interval)
        if isinstance(item, OutboundMessage):
            if item.text.startswith(text):  # the usual case: the reply is what was streamed
                await client.chat_stopStream(channel=channel, ts=ts,
                                             markdown_text=item.text[sent:] or None,
                                             blocks=blocks(item, with_text=False) or None)
            else:
                await client.chat_stopStream(channel=channel, ts=ts)
                await _final(client, channel, ts, item)
            return Posted(channel, ts, item)
        text += item.delta
        if time.monotonic() - last >= interval and len(text) > sent:
            await client.chat_appendStream(channel=channel, ts=ts, markdown_text=text[sent:])
            sent, last = len(text), time.monotonic()
    raise RuntimeError("the bot's stream ended without a reply")


async def _edited(client: AsyncWebClient, channel: str, ts: str, stream: Stream,
                  interval: float) -> Posted:
    text, shown, last = "", "", time.monotonic()
    async for item in stream:
        if isinstance(item, OutboundMessage):
            await _final(client, channel, ts, item)
            return Posted(channel, ts, item)
        text = "" if isinstance(item, StreamReset) else text + item.delta
        if time.monotonic() - last >= interval and text.strip() and text != shown:
            await client.chat_update(channel=channel, ts=ts, text=mrkdwn(text) + " …")
            shown, last = text, time.monotonic()
    raise RuntimeError("the bot's stream ended without a reply")


async def _final(client: AsyncWebClient, channel: str, ts: str, reply: OutboundMessage) -> None:
    await client.chat_update(channel=channel, ts=ts, text=reply.as_text(), blocks=blocks(reply))
