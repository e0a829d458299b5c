"""The guard node: the first look at a message, before any model or index sees it.

Refusals are answered directly (the graph skips to respond) and are not kept in the history.
"""

from __future__ import annotations

from parley_bot.agents.config import Guard
from parley_bot.agents.state import Draft, Node, TurnState


def guard_node(settings: Guard) -> Node:
    """Build the guard for these limits."""

    async def guard(state: TurnState) -> TurnState:
        text = state["inbound"].text.strip()
        if not text:
            return {"draft": Draft(text="Please type your question.", refused=True)}
        if len(text) > settings.max_chars:
            return {"draft": Draft(
                text=f"That message is too long for me ({len(text):,} characters; the limit is "
                     f"{settings.max_chars:,}). Could you shorten it?",
                refused=True,
            )}
        return {}

    return guard
