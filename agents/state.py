"""The state of one conversation as the turn graph sees it.

`history`, `language`, `active` and `pending` live across turns and are checkpointed:
`history` holds the recent exchanges as plain text, bounded by `memory.window_messages`, so a
turn costs the same at message 400 as at message 2; `language` is the conversation's
language, kept for messages too short to tell ("2", "ok"). Plain text rather than LangChain
message objects: rebuilding those from every checkpoint was most of what a long conversation
added to a turn, and only the exchanges that fit the model's token budget ever become
messages (`agents.prompt`).
`active` is the skill the last turn was in (and a form's answers so far), so a follow-up stays
in it; `pending` is a tool call waiting for the user's yes or no (`agents.confirm`). Every
other key is set afresh by each turn's input.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Protocol, TypedDict

from langgraph.channels import UntrackedValue
from pydantic import BaseModel, ConfigDict

from parley_bot.agents.router import Routing
from parley_bot.channels.messages import Button, Citation, InboundMessage, OutboundMessage, Usage
from parley_bot.knowledge.types import Passage


class Draft(BaseModel):
    """A skill's answer before the respond node shapes it into the reply."""

    model_config = ConfigDict(frozen=True)

    text: str
    citations: tuple[Citation, ...] = ()
    buttons: tuple[Button, ...] = ()
    usage: Usage | None = None
    fallback: bool = False
    refused: str | None = None
    """Why the guard turned the message away ('too_long', 'injection:override', …): no
    template, nothing added to history."""


class Exchange(TypedDict):
    """One finished exchange of a conversation."""

    user: str
    """What the user said."""
    bot: str
    """What the bot answered."""


class Active(TypedDict):
    """The skill a conversation is in, kept between turns (plain data, as checkpoints are)."""

    skill: str
    """Its name."""
    slots: dict[str, str | int | float]
    """A form's answers so far, by slot name."""
    asked: str | None
    """The slot a form asked for last."""


class Pending(TypedDict):
    """A tool call waiting for the user's yes (a `confirm: true` tool), kept between turns,
    so the yes may come to any worker process, or after a restart."""

    skill: str
    """The agent skill that proposed it."""
    messages: list[dict[str, Any]]
    """The skill's loop so far after the prompt, ending with the model's message proposing
    the call (`langchain_core.messages.messages_to_dict`)."""
    calls: list[dict[str, Any]]
    """That message's calls still to run, the one to confirm first ({name, args, id})."""
    user: str
    """Who was asked: only their yes runs it (anyone may write in a group conversation)."""
    asked_at: float
    """When (epoch seconds): a yes after `agents.confirm.PENDING_TTL_S` runs nothing."""


class TurnState(TypedDict, total=False):
    """One turn's state. Nodes return only the keys they change.

    Only `history`, `language`, `active` and `pending` are checkpointed; the per-turn keys are
    `UntrackedValue` channels, so a checkpoint holds the history window and little else, and
    loading it stays cheap.
    """

    history: list[Exchange]
    """Recent exchanges, oldest first; replaced whole by the respond node."""
    language: str | None
    """The language of the conversation: this message's when it is clear, else the last one
    that was (a code such as 'en', 'pl'); None until a message says. Every text the bot says
    on its own is chosen by it (`texts.localize`)."""
    active: Active | None
    """The skill this conversation is in; None after a general or out-of-scope answer."""
    pending: Pending | None
    """A tool call the bot asked the user to confirm; the next message answers it."""
    confirmed: Annotated[bool, UntrackedValue(bool)]
    """This message is the user's yes to `pending`."""
    inbound: Annotated[InboundMessage, UntrackedValue(InboundMessage)]
    """This turn's message, as the channel delivered it."""
    skill: Annotated[str | None, UntrackedValue(str)]
    """The skill the router chose; None means a general answer over all knowledge."""
    routing: Annotated[Routing | None, UntrackedValue(object)]
    """How the route node decided, for the turn's log line."""
    passages: Annotated[list[Passage], UntrackedValue(list)]
    """What retrieval found for this turn, best first."""
    draft: Annotated[Draft | None, UntrackedValue(Draft)]
    """The answer so far; set by a skill node, or by the guard when it refuses a message."""
    reply: Annotated[OutboundMessage | None, UntrackedValue(OutboundMessage)]
    """The finished reply, set by the respond node."""


class Node(Protocol):
    """A graph node: the state in, the keys it changes out. Built by a factory that injects
    its I/O (stores, models), never reaching for globals."""

    def __call__(self, state: TurnState) -> Awaitable[TurnState]: ...
