"""The message types every channel shares. Frozen, typed, and the only thing the bot and the
channels agree on: adapters turn platform requests into `InboundMessage` and render
`OutboundMessage`; the plain-text fallback for buttons and citations is written once, here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ChannelName = Literal["terminal", "api", "web", "slack", "whatsapp", "eval"]
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
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    event_id: str | None = Field(None, description="The platform's id, used to drop retries.")
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


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
    usage: Usage | None = None
    fallback: bool = Field(
        False, description="True when the configured model failed, or the turn itself did."
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


class Turn(Frozen):
    """One stored exchange of a conversation, as `GET /api/conversations/{id}` returns it."""

    conversation_id: str
    user_text: str
    reply: str
    citations: tuple[Citation, ...] = ()
    skill: str | None = None
    usage: Usage | None = None
    fallback: bool = False
    latency_ms: float = 0.0
    at: datetime
