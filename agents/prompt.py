"""The chat messages sent to a model for one turn: system prompt with numbered sources,
few-shot examples, recent history within a token budget, the question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from parley_bot.agents.config import FlowsConfig, Skill
from parley_bot.agents.state import Exchange
from parley_bot.knowledge.types import Passage

# Token estimate of langchain's count_tokens_approximately: 4 characters a token, 3 tokens of
# overhead a message. Applied to the plain text, so only exchanges that fit become messages.
_CHARS_PER_TOKEN, _TOKENS_PER_MESSAGE = 4, 3

_RULES = (
    "Answer from the numbered sources below and cite each fact with its number, like [1]. "
    "If the sources do not contain the answer, say so plainly; do not guess."
)


def build_messages(
    config: FlowsConfig,
    skill: Skill | None,
    history: Sequence[Exchange],
    question: str,
    passages: list[Passage] | None,
) -> list[BaseMessage]:
    """Assemble the model input for one turn.

    Args:
        config: the bot (persona, history budget).
        skill: the routed skill, whose instructions and few-shot examples are added.
        history: earlier exchanges of the conversation, oldest first; the newest that fit
            `memory.history_tokens` are sent.
        question: this turn's user text.
        passages: retrieved sources, numbered [1].. in the system prompt; None for a turn
            that retrieves nothing (an agent skill, whose data comes from its tools).
    """
    system = [config.persona.strip()]
    if skill is not None and skill.instructions:
        system.append(skill.instructions.strip())
    if passages is not None:
        system.append(_RULES)
        system.append("Sources:\n" + ("\n\n".join(_source(i, p) for i, p in enumerate(passages, 1))
                                      or "(none found)"))
    shots = _messages((s.user, s.assistant) for s in (skill.few_shot if skill else []))
    fitting = _within(history, config.memory.history_tokens)
    recent = _messages((e["user"], e["bot"]) for e in fitting)
    return [SystemMessage("\n\n".join(system)), *shots, *recent, HumanMessage(question)]


def _within(history: Sequence[Exchange], budget: int) -> list[Exchange]:
    """The newest exchanges whose estimated tokens fit `budget`, oldest first."""
    kept: list[Exchange] = []
    for exchange in reversed(history):
        chars = len(exchange["user"]) + len(exchange["bot"])
        budget -= -(-chars // _CHARS_PER_TOKEN) + 2 * _TOKENS_PER_MESSAGE
        if budget < 0:
            break
        kept.append(exchange)
    return kept[::-1]


def _messages(pairs: Iterable[tuple[str, str]]) -> list[BaseMessage]:
    """(user, assistant) pairs as alternating chat messages."""
    return [m for user, bot in pairs for m in (HumanMessage(user), AIMessage(bot))]


def _source(number: int, passage: Passage) -> str:
    chunk = passage.chunk
    where = f" — {chunk.location}" if chunk.location else ""
    return f"[{number}] {chunk.title} ({chunk.uri}{where})\n{chunk.text}"
