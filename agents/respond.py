"""The respond node: shape the draft into the reply, keep the history window bounded, and log
which skill answered."""

from __future__ import annotations

import logging

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.skills import AnswerSkill
from parley_bot.agents.state import Exchange, Node, TurnState
from parley_bot.channels.messages import OutboundMessage

log = logging.getLogger("parley.turn")


def respond_node(config: FlowsConfig) -> Node:
    """Build the respond node for this bot's templates and memory window."""
    keep = max(config.memory.window_messages // 2, 1)  # two messages an exchange

    async def respond(state: TurnState) -> TurnState:
        draft = state["draft"]
        assert draft is not None, "every path to respond sets a draft"
        skill = config.skill(state.get("skill"))
        text = draft.text
        if not draft.refused and isinstance(skill, AnswerSkill) and skill.template:
            text = skill.template.format(answer=text)
        reply = OutboundMessage(
            conversation_id=state["inbound"].conversation_id,
            text=text,
            citations=draft.citations,
            buttons=draft.buttons,
            skill=skill.name if skill else None,
            usage=draft.usage,
            fallback=draft.fallback,
        )
        routing = state.get("routing")
        log.info("turn answered: skill=%s route=%s confidence=%.2f fallback=%s "
                 "(conversation=%s event=%s)", reply.skill or "-",
                 routing.by if routing else "refused", routing.confidence if routing else 0.0,
                 draft.fallback, reply.conversation_id, state["inbound"].event_id)
        if draft.refused:
            return {"reply": reply}
        exchange = Exchange(user=state["inbound"].text.strip(), bot=text)
        return {"reply": reply, "history": [*state.get("history", []), exchange][-keep:]}

    return respond
