"""The state of one conversation as the turn graph sees it.

`messages` is the only key that lives across turns: the recent history, bounded by
`memory.window_messages` (the respond node removes older messages), so a turn costs the same
at message 400 as at message 2. Every other key is set afresh by each turn's input.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Protocol, TypedDict

from langchain_core.messages import BaseMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, ConfigDict

from channels.messages import (
    Attachment,
    Button,
    Citation,
    InboundMessage,
    OutboundMessage,
    Usage,
)
from knowledge.types import Chunk, Passage


class Draft(BaseModel):
    """A skill's answer before the respond node shapes it into the reply."""

    model_config = ConfigDict(frozen=True)

    text: str
    citations: tuple[Citation, ...] = ()
    buttons: tuple[Button, ...] = ()
    usage: Usage | None = None
    fallback: bool = False
    refused: bool = False
    """True when the guard turned the message away: no template, nothing added to history."""


class TurnState(TypedDict, total=False):
    """One turn's state. Nodes return only the keys they change."""

    messages: Annotated[list[BaseMessage], add_messages]
    """Recent history (user and assistant), merged by id; the only key kept across turns."""
    inbound: InboundMessage
    """This turn's message, as the channel delivered it."""
    skill: str | None
    """The skill the router chose; None means a general answer over all knowledge."""
    passages: list[Passage]
    """What retrieval found for this turn, best first."""
    draft: Draft | None
    """The answer so far; set by a skill node, or by the guard when it refuses a message."""
    reply: OutboundMessage | None
    """The finished reply, set by the respond node."""


# Types that appear in checkpoints; LangGraph only deserializes classes it is told about.
CHECKPOINT_TYPES: list[tuple[str, str]] = [
    (cls.__module__, cls.__name__)
    for cls in (
        InboundMessage, Attachment, OutboundMessage, Citation, Button, Usage, Passage, Chunk, Draft
    )
]

class Node(Protocol):
    """A graph node: the state in, the keys it changes out. Built by a factory that injects
    its I/O (stores, models), never reaching for globals."""

    def __call__(self, state: TurnState) -> Awaitable[TurnState]: ...
