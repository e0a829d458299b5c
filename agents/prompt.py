"""The chat messages sent to a model for one turn: system prompt with numbered sources,
few-shot examples, recent history within a token budget, the question."""

from __future__ import annotations

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    trim_messages,
)
from langchain_core.messages.utils import count_tokens_approximately

from agents.config import FlowsConfig, Skill
from knowledge.types import Passage

_RULES = (
    "Answer from the numbered sources below and cite each fact with its number, like [1]. "
    "If the sources do not contain the answer, say so plainly; do not guess."
)


def build_messages(
    config: FlowsConfig,
    skill: Skill | None,
    history: list[BaseMessage],
    question: str,
    passages: list[Passage],
) -> list[BaseMessage]:
    """Assemble the model input for one turn.

    Args:
        config: the bot (persona, history budget).
        skill: the routed skill, whose instructions and few-shot examples are added.
        history: earlier messages of the conversation, oldest first, not including `question`.
        question: this turn's user text.
        passages: retrieved sources, numbered [1].. in the system prompt.
    """
    system = [config.persona.strip()]
    if skill is not None and skill.instructions:
        system.append(skill.instructions.strip())
    system.append(_RULES)
    system.append("Sources:\n" + ("\n\n".join(_source(i, p) for i, p in enumerate(passages, 1))
                                  or "(none found)"))
    shots: list[BaseMessage] = []
    for shot in skill.few_shot if skill is not None else []:
        shots += [HumanMessage(shot.user), AIMessage(shot.assistant)]
    recent = trim_messages(
        history,
        max_tokens=config.memory.history_tokens,
        token_counter=count_tokens_approximately,
        strategy="last",
        start_on="human",
    )
    return [SystemMessage("\n\n".join(system)), *shots, *recent, HumanMessage(question)]


def _source(number: int, passage: Passage) -> str:
    chunk = passage.chunk
    where = f" — {chunk.location}" if chunk.location else ""
    return f"[{number}] {chunk.title} ({chunk.uri}{where})\n{chunk.text}"
