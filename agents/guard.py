"""The guard node: the first look at a message, before any model or index sees it.

Refusals are answered directly (the graph skips to respond) and are not kept in the history.
"""

from __future__ import annotations

from parley_bot.agents.config import BotTexts, Guard
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.texts import localize


def guard_node(settings: Guard, texts: BotTexts) -> Node:
    """Build the guard for these limits, refusing in these words."""

    async def guard(state: TurnState) -> TurnState:
        inbound = state["inbound"]
        text = inbound.text.strip()
        language = state.get("language")
        if not text and not inbound.attachments:
            return {"draft": Draft(text=localize(texts.empty_message, language), refused=True)}
        if len(text) > settings.max_chars:
            return {"draft": Draft(
                text=localize(texts.too_long, language, length=len(text),
                              limit=settings.max_chars),
                refused=True,
            )}
        return {}

    return guard
