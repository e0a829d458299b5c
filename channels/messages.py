"""The message types every channel shares. Frozen, typed, and the only thing the bot and the
channels agree on: adapters turn platform requests into `InboundMessage` and render
`OutboundMessage`; the plain-text fallback for buttons and citations is written once, here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, get_args
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

ChannelName = Literal["terminal", "api", "web", "slack", "whatsapp", "eval"]
CHANNELS: tuple[ChannelName, ...] = get_args(ChannelName)
MAX_CONVERSATION_ID = 256


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attachment(Frozen):
    """A file sent with a message: image, audio, document. Fetched lazily by whoever needs it."""

    url: str
    content_type: str = "application/octet-stream"
    name: str | None = None


class InboundMessage(Frozen):
    """One user turn, as every channel hands it to the bot."""

    channel: ChannelName
    conversation_id: str = Field(..., min_length=1, max_length=MAX_CONVERSATION_ID)
    user_id: str = "anonymous"
    user_name: str | None = Field(None, description="How the user calls themselves, when the "
                                  "platform says (WhatsApp's profile name).")
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    event_id: str | None = Field(None, description="The platform's id, used to drop retries.")
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def key(self) -> str:
        """The conversation's key in the store, '<channel>:<conversation_id>': a channel can
        only ever address its own conversations."""
        return conversation_key(self.channel, self.conversation_id)


def conversation_key(channel: ChannelName, conversation_id: str) -> str:
    """'slack:T01:C02:1700000000.000100' for a Slack thread, 'api:c1' for the JSON API."""
    return f"{channel}:{conversation_id}"


def split_key(key: str) -> tuple[ChannelName, str]:
    """The channel and channel-local id of a conversation key.

    Raises:
        ValueError: the key does not start with a known channel.
    """
    channel, _, conversation_id = key.partition(":")
    for known in CHANNELS:
        if channel == known and conversation_id:
            return known, conversation_id
    raise ValueError(f"{key!r} is not '<channel>:<id>' with a channel of {list(CHANNELS)}")


def new_turn_id() -> str:
    return uuid4().hex


class Citation(Frozen):
    """Where an answer came from: a document (and heading or page) or a web page."""

    title: str
    uri: str
    location: str = ""
    anchor: str | None = None

    @property
    def label(self) -> str:
        """'returns.md — Returns › Time limits': the text form every channel can show."""
        return f"{self.uri} — {self.location}" if self.location else self.uri

    @property
    def link(self) -> str:
        """The uri with its anchor, for channels that render links."""
        return f"{self.uri}#{self.anchor}" if self.anchor else self.uri


class Button(Frozen):
    """A quick reply the user can tap instead of typing; `value` is sent back as text."""

    label: str
    value: str


class Usage(Frozen):
    """Tokens a turn cost and which model spent them."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class OutboundMessage(Frozen):
    """The bot's reply to one turn."""

    conversation_id: str
    text: str
    citations: tuple[Citation, ...] = ()
    buttons: tuple[Button, ...] = ()
    skill: str | None = None
    route: str | None = Field(
        None, description="How the skill was chosen ('classifier', 'follow-up', 'model', "
        "'none'...); None when no skill was looked for (a refusal, small talk)."
    )
    usage: Usage | None = None
    fallback: bool = Field(
        False, description="True when the configured model failed, or the turn itself did."
    )
    turn_id: str | None = Field(
        None, description="The stored turn this reply belongs to; feedback refers to it. "
        "None when the message was declined."
    )
    refused: str | None = Field(
        None, description="Why the guard turned the message away, answering it itself: "
        "'empty', 'too_long', 'injection:<family>' or 'denied' (guard.deny)."
    )
    declined: Literal["rate_limited", "unavailable"] | None = Field(
        None, description="Why the message was not taken (nothing was stored): the sender is "
        "over a rate limit, or the store is down or the conversation busy. The text says so; "
        "the JSON API answers 429 or 503."
    )

    def as_text(self) -> str:
        """The reply for channels that show only text: buttons and sources as plain lines."""
        parts = [self.text]
        if self.buttons:
            parts.append(" | ".join(f"[{b.label}]" for b in self.buttons))
        if self.citations:
            parts.append("Sources: " + "; ".join(c.label for c in self.citations))
        return "\n\n".join(parts)


class StreamChunk(Frozen):
    """A piece of a reply while it is being generated, for channels that stream (widget SSE)."""

    conversation_id: str
    delta: str


class StreamReset(Frozen):
    """The reply streamed so far is void (its model failed part-way): the channel removes
    what it showed of it, and the chunks that follow start the reply again."""

    conversation_id: str


class Feedback(Frozen):
    """A person's rating of one reply: thumbs up (1) or down (-1), and what they said."""

    rating: Literal[1, -1]
    comment: str | None = Field(None, max_length=4000)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Turn(Frozen):
    """One stored exchange of a conversation, as `GET /api/conversations/{id}` returns it."""

    id: str = Field(default_factory=new_turn_id, description="Unique; feedback refers to it.")
    channel: ChannelName
    conversation_id: str
    user_text: str
    reply: str
    user_name: str | None = Field(None, description="The name the user goes by on the "
                                  "channel (WhatsApp's ProfileName), when it gives one.")
    citations: tuple[Citation, ...] = ()
    skill: str | None = None
    usage: Usage | None = None
    fallback: bool = False
    latency_ms: float = 0.0
    at: datetime
    feedback: Feedback | None = None

    @property
    def key(self) -> str:
        """The conversation's key in the store (see `InboundMessage.key`)."""
        return conversation_key(self.channel, self.conversation_id)
