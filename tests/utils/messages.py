"""Builders for the messages tests send to a bot."""

from __future__ import annotations

from parley_bot.channels.messages import InboundMessage


def inbound(text: str, conversation: str = "c1", event_id: str | None = None) -> InboundMessage:
    """A user's message on the API channel."""
    return InboundMessage(channel="api", conversation_id=conversation, text=text,
                          event_id=event_id)
