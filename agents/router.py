"""The route node: pick the skill whose example utterances best match the message.

BM25 over every skill's examples, name and description, with the same analyzer as the
knowledge index. A candidate must also overlap the message both ways: the mean of the share
of the message's subject words it holds and the share of its own words the message holds is
at least one half. A question no skill describes gets the general answer, not a wrong skill,
and one shared word ('size') does not pull a backpack question into 'exchange for a size'.
"""

from __future__ import annotations

from parley_bot.agents.config import Skill
from parley_bot.agents.state import Node, TurnState
from parley_bot.knowledge.bm25 import Bm25Index
from parley_bot.knowledge.text import content_terms

MIN_OVERLAP = 0.5


class SkillRouter:
    """Example-based router over the skills of one bot."""

    def __init__(self, skills: list[Skill]) -> None:
        self._owners: list[str] = []
        texts: list[str] = []
        for skill in skills:
            for example in [*skill.examples, f"{skill.name.replace('_', ' ')} {skill.description}"]:
                self._owners.append(skill.name)
                texts.append(example)
        self._offered = [content_terms(text) for text in texts]
        self._index = Bm25Index.build(texts)

    def route(self, text: str) -> str | None:
        """The best skill for `text`, or None when no skill matches well enough."""
        wanted = content_terms(text)
        if not wanted:
            return None
        for position, _score in self._index.search(text, k=5):
            offered = self._offered[position]
            shared = len(wanted & offered)
            if offered and (shared / len(wanted) + shared / len(offered)) / 2 >= MIN_OVERLAP:
                return self._owners[position]
        return None


def route_node(router: SkillRouter) -> Node:
    """Build the route node around `router`."""

    async def route(state: TurnState) -> TurnState:
        return {"skill": router.route(state["inbound"].text)}

    return route
