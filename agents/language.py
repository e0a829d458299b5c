"""Which language this turn is in, for everything the bot says: the first step of the intake
node (`agents.intake`).

A message clear enough to tell sets the conversation's language; one too short to tell ('2',
'ok', '👍') keeps the last one, which the checkpoint carries from turn to turn. A short
message changes it only when the detector is sure, so 'merci' can switch a conversation to
French but a stray 'no' does not switch it to anything.
"""

from __future__ import annotations

import regex

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.state import Node, TurnState
from parley_bot.knowledge.languages import detect

# Below this many letters a message switches the conversation's language only when the
# detector is at least `SURE` of it.
SHORT_LETTERS, SURE = 12, 0.9
_LETTER = regex.compile(r"\p{L}")


def language_node(config: FlowsConfig) -> Node:
    """Build the intake step that sets `language` from the message, in flows.yaml's languages."""
    allowed = config.knowledge.pinned_languages

    async def language(state: TurnState) -> TurnState:
        text = state["inbound"].text
        found = detect(text, allowed)
        if found is None or found.language == state.get("language"):
            return {}
        short = len(_LETTER.findall(text[:200])) < SHORT_LETTERS
        if short and state.get("language") is not None and found.confidence < SURE:
            return {}
        return {"language": found.language}

    return language
