"""The respond node: shape the draft into the reply (with the skill that answered and how it
was chosen, for the turn's log line) and keep the history window bounded."""

from __future__ import annotations

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.skills import AnswerSkill
from parley_bot.agents.state import Exchange, Node, TurnState
from parley_bot.channels.messages import OutboundMessage


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
        routing = state.get("routing")
        reply = OutboundMessage(
            conversation_id=state["inbound"].conversation_id,
            text=text,
            citations=draft.citations,
            buttons=draft.buttons,
            skill=skill.name if skill else None,
            route=routing.by if routing else None,
            usage=draft.usage,
            fallback=draft.fallback,
            refused=draft.refused,
        )
        if draft.refused:
            return {"reply": reply}
        exchange = Exchange(user=state["inbound"].text.strip(), bot=text)
        return {"reply": reply, "history": [*state.get("history", []), exchange][-keep:]}

    return respond
