"""Which skill a turn is in, and what the bot says when nothing it has fits.

The no-match order, the same for every turn:

    1. the router picks a skill confidently                 → that skill
    2. the conversation is in a skill (a form still asking,
       or a follow-up like "and for kids' sizes?")           → stay in it
    3. retrieval over all documents finds something relevant → the general answer
    4. nothing relevant either                               → out of scope: `fallback_answer`
                                                               and what the bot can help with

Step 3 happens in the retrieve node (`agents.answer`), step 4 in `out_of_scope_node`.
"""

from __future__ import annotations

import re

from parley_bot.agents.config import FlowsConfig, Skill
from parley_bot.agents.form import takes
from parley_bot.agents.router import Routing, SkillRouter
from parley_bot.agents.skills import FormSkill
from parley_bot.agents.state import Active, Draft, Node, TurnState
from parley_bot.agents.texts import localize


def skill_topics(config: FlowsConfig) -> list[str]:
    """What the bot can help with: each skill's description, or its name where it has none.
    The out-of-scope answer and the reply to "what can you do?" both list these."""
    return [s.description.strip().rstrip(".") or s.name.replace("_", " ").capitalize()
            for s in config.skills]


def what_i_can_help_with(config: FlowsConfig, language: str | None = None) -> str:
    """One sentence listing the skills' topics ('I can help with: …'), or '' for a bot with
    no skills."""
    topics = [_topic(topic) for topic in skill_topics(config)]
    if not topics:
        return ""
    return localize(config.texts.can_help_with, language, topics="; ".join(topics))


def out_of_scope_text(config: FlowsConfig, language: str | None = None) -> str:
    """`fallback_answer`, then what the bot can help with."""
    parts = [localize(config.fallback_answer, language), what_i_can_help_with(config, language)]
    return " ".join(part for part in parts if part)


def _topic(text: str) -> str:
    """A description as part of a sentence: 'Delivery times' → 'delivery times' (not 'FAQ')."""
    return text[0].lower() + text[1:] if text[:2] != text[:2].upper() else text


def route_node(config: FlowsConfig, router: SkillRouter) -> Node:
    """Build the route node: the router's choice, or the skill the conversation is in."""

    async def route(state: TurnState) -> TurnState:
        text = state["inbound"].text
        routing = await router.aroute(text)
        active = state.get("active")
        current = config.skill(active["skill"]) if active else None
        if active is not None and current is not None and _stays(current, active, routing, text):
            stay = Routing(current.name, routing.confidence, "follow-up", routing.candidates)
            return {"skill": current.name, "routing": stay}
        if routing.skill is None:
            return {"skill": None, "routing": routing, "active": None}
        if active is not None and active["skill"] == routing.skill:
            return {"skill": routing.skill, "routing": routing}
        fresh = Active(skill=routing.skill, slots={}, asked=None)
        return {"skill": routing.skill, "routing": routing, "active": fresh}

    return route


def _stays(current: Skill, active: Active, routing: Routing, text: str) -> bool:
    """Whether the message stays in the skill the conversation is in. A form keeps every
    message unless another skill is clearly meant (and even then, one it can use); other
    skills keep follow-ups below the threshold."""
    if routing.skill == current.name:
        return False
    if isinstance(current, FormSkill):
        return routing.skill is None or takes(current, active, text)
    return routing.skill is None and _follows_up(text, routing, current.name)


CONTINUATIONS = re.compile(r"^\W*(and|also|or|but|so|then|what about|how about)\b", re.I)
"""Openings that mark a message as a follow-up of the previous one."""


def _follows_up(text: str, routing: Routing, skill: str) -> bool:
    """A message below the threshold stays in the skill the conversation is in when it reads
    as a continuation ("and for kids' sizes?"), or that skill is still the router's best and
    on its side of the boundary (a margin of at least 0)."""
    best = routing.candidates[0] if len(routing.candidates) > 1 else None
    leaning = best == skill and routing.confidence >= 0
    return leaning or CONTINUATIONS.match(text) is not None


def out_of_scope_node(config: FlowsConfig) -> Node:
    """Build the node for a turn no skill and no document answers."""

    async def out_of_scope(state: TurnState) -> TurnState:
        text = out_of_scope_text(config, state.get("language"))
        return {"draft": Draft(text=text), "skill": None, "active": None}

    return out_of_scope
