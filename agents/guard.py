"""The guard, a step of the intake node (`agents.intake`): the first look at a message,
before any model or index sees it.

In order: an empty message, one over `guard.max_chars`, a prompt injection (`agents.screen`,
when `guard.injection` is on) and a denied topic (`guard.deny`). Rate limits are checked
before the turn even starts (`Bot`, on the store's counters). A refusal is answered directly
in the conversation's language (the graph skips to respond), is not kept in the history, and
carries its reason ('empty', 'too_long', 'injection:<family>', 'denied') to the reply and the
turn's `parley.turn` log line.
"""

from __future__ import annotations

from parley_bot.agents.config import BotTexts, Guard
from parley_bot.agents.screen import denied, deny_pattern, injection
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.texts import localize


def guard_node(settings: Guard, texts: BotTexts) -> Node:
    """Build the guard for these limits and screens, refusing in these words."""
    deny = [deny_pattern(entry) for entry in settings.deny]

    async def guard(state: TurnState) -> TurnState:
        inbound = state["inbound"]
        text = inbound.text.strip()
        language = state.get("language")

        def refuse(reason: str, reply: str) -> TurnState:
            return {"draft": Draft(text=reply, refused=reason)}

        if not text and not inbound.attachments:
            return refuse("empty", localize(texts.empty_message, language))
        if len(text) > settings.max_chars:
            return refuse("too_long", localize(texts.too_long, language, length=len(text),
                                               limit=settings.max_chars))
        if settings.injection and (family := injection(text)) is not None:
            return refuse(f"injection:{family}", localize(texts.injection, language))
        if denied(deny, text):
            return refuse("denied", localize(texts.denied, language))
        return {}

    return guard
