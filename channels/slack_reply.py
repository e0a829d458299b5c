"""One reply in Slack, shown as it is written: a placeholder message posted at once, edited
with `chat.update` as the model's text streams in (at most once per `interval` seconds,
within Slack's per-message rate limit), and edited a last time into the rendered reply with
its sources and buttons."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from parley_bot.channels.messages import OutboundMessage, StreamChunk, StreamReset
from parley_bot.channels.slack_render import blocks, mrkdwn

PLACEHOLDER = "…"
UPDATE_INTERVAL_S = 1.0


@dataclass(frozen=True)
class Posted:
    """Where a reply was posted, and what it ended as."""

    channel: str
    ts: str
    reply: OutboundMessage


async def post_reply(
    client: AsyncWebClient, channel: str, thread_ts: str | None,
    stream: AsyncIterator[StreamChunk | StreamReset | OutboundMessage],
    interval: float = UPDATE_INTERVAL_S,
) -> Posted:
    """Post `stream` (a `Bot.stream`) as one message in `channel` (in the thread `thread_ts`,
    or at the top level when None).

    Raises:
        SlackApiError: Slack refused a call (after slack_sdk's retries of rate limits).
    """
    posted = await client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                           text=PLACEHOLDER)
    ts = str(posted["ts"])
    text, shown, last = "", "", time.monotonic()
    async for item in stream:
        if isinstance(item, OutboundMessage):
            await client.chat_update(channel=channel, ts=ts, text=item.as_text(),
                                     blocks=blocks(item))
            return Posted(channel, ts, item)
        text = "" if isinstance(item, StreamReset) else text + item.delta
        if time.monotonic() - last >= interval and text.strip() and text != shown:
            await client.chat_update(channel=channel, ts=ts, text=mrkdwn(text) + " …")
            shown, last = text, time.monotonic()
    raise RuntimeError("the bot's stream ended without a reply")
