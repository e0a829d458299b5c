"""The route node: pick the skill whose example utterances best match the message.

BM25 over every skill's examples, name and description, with the same analyzer as the
knowledge index; a match must also cover half the subject words of the message, so a
question no skill describes gets the general answer instead of a wrong skill.
"""

from __future__ import annotations

from agents.config import Skill
from agents.state import Node, TurnState
from knowledge.bm25 import Bm25Index
from knowledge.text import content_terms, terms

MIN_COVERAGE = 0.5


class SkillRouter:
    """Example-based router over the skills of one bot."""

    def __init__(self, skills: list[Skill]) -> None:
        self._owners: list[str] = []
        texts: list[str] = []
        for skill in skills:
            for example in [*skill.examples, f"{skill.name.replace('_', ' ')} {skill.description}"]:
                self._owners.append(skill.name)
                texts.append(example)
        self._texts = texts
        self._index = Bm25Index.build(texts)

    def route(self, text: str) -> str | None:
        """The best skill for `text`, or None when no skill matches well enough."""
        wanted = content_terms(text)
        if not wanted:
            return None
        for position, _score in self._index.search(text, k=5):
            covered = len(wanted & set(terms(self._texts[position]))) / len(wanted)
            if covered >= MIN_COVERAGE:
                return self._owners[position]
        return None


def route_node(router: SkillRouter) -> Node:
    """Build the route node around `router`."""

    async def route(state: TurnState) -> TurnState:
        return {"skill": router.route(state["inbound"].text)}

    return route
