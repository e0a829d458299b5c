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
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from parley_bot.channels.messages import OutboundMessage, StreamChunk, StreamReset
from parley_bot.channels.slack_render import blocks, mrkdwn

PLACEHOLDER = "…"
STREAMS_REFUSED = {"not_allowed", "not_allowed_token_type", "method_deprecated",
                   "unknown_method", "missing_scope", "not_in_thread", "feature_not_enabled",
                   "team_not_allowed", "not_authed_for_streaming"}
"""Refusals that mean this app or workspace cannot stream: streams are off for the process.
Any other (a transient internal_error, ratelimited, a missing channel) falls back to a
placeholder for this reply only."""
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
                     streaming: Streaming, interval: float = UPDATE_INTERVAL_S, *,
                     error_text: str = "Sorry, something went wrong.") -> Posted:
    """Post `stream` (a `Bot.stream`) as one message. Progress is best-effort: a refused
    update is logged and the reply goes on to its final text; a failing stream ends in
    `error_text`, so a shown placeholder or stream is never left unfinished.

    Raises:
        SlackApiError: Slack refused to start the reply or to show its final text (after
            slack_sdk's retries of rate limits).
    """
    stream = _ending(stream, where, error_text)
    if streaming.enabled and where.thread_ts is not None:
        try:
            started = await client.chat_startStream(
                channel=where.channel, thread_ts=where.thread_ts,
                recipient_team_id=where.team, recipient_user_id=where.user)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in STREAMS_REFUSED:
                log.info("Slack refused a stream (%s): replies are edited messages from now on",
                         error)
                streaming.enabled = False
            else:
                log.warning("Slack could not start a stream (%s): this reply is an edited "
                            "message", error)
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
            await _shown(client.chat_stopStream(channel=channel, ts=ts))
            return await _edited(client, channel, ts, stream, interval)
        if isinstance(item, OutboundMessage):
            if not (item.text.startswith(text[:sent]) and await _shown(client.chat_stopStream(
                    channel=channel, ts=ts, markdown_text=item.text[sent:] or None,
                    blocks=blocks(item, with_text=False) or None))):
                # the reply is not what was streamed, or its end was refused: replace it
                await _shown(client.chat_stopStream(channel=channel, ts=ts))
                await _final(client, channel, ts, item)
            return Posted(channel, ts, item)
        text += item.delta
        if time.monotonic() - last >= interval and len(text) > sent:
            last = time.monotonic()
            if await _shown(client.chat_appendStream(channel=channel, ts=ts,
                                                     markdown_text=text[sent:])):
                sent = len(text)
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
            last = time.monotonic()
            if await _shown(client.chat_update(channel=channel, ts=ts,
                                               text=mrkdwn(text) + " …")):
                shown = text
    raise RuntimeError("the bot's stream ended without a reply")


async def _shown(call: Awaitable[object]) -> bool:
    """Whether Slack took a progress update; a refusal is logged, not raised: the final
    text still follows."""
    try:
        await call
    except SlackApiError as exc:
        log.warning("Slack refused a progress update: %s", exc.response.get("error"))
        return False
    return True


async def _ending(stream: Stream, where: Where, error_text: str) -> Stream:
    """`stream`, ended by an answer of `error_text` when it fails."""
    try:
        async for item in stream:
            yield item
    except Exception:
        log.exception("the bot's stream failed (channel=%s thread=%s)", where.channel,
                      where.thread_ts)
        yield OutboundMessage(conversation_id=where.channel, text=error_text)


async def _final(client: AsyncWebClient, channel: str, ts: str, reply: OutboundMessage) -> None:
    await client.chat_update(channel=channel, ts=ts, text=reply.as_text(), blocks=blocks(reply))
