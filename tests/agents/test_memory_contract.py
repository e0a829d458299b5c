"""One contract, every memory store: each backend runs the same tests."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.memory import PRUNE_EVERY, open_memory
from parley_bot.channels.messages import Citation, Turn
from tests.conftest import configure
from tests.utils.messages import inbound

BACKENDS = ["memory:", "sqlite:.parley/memory.sqlite"]


def turn(conversation: str, text: str) -> Turn:
    return Turn(conversation_id=conversation, user_text=text, reply=f"re: {text}",
                citations=(Citation(title="Returns", uri="returns.md", location="p. 2"),),
                at=datetime.now(UTC))


@pytest.mark.parametrize("url", BACKENDS)
async def test_transcript_keeps_turns_in_order_per_conversation(bot_dir: Path, url: str) -> None:
    config = configure(bot_dir, memory={"url": url})
    async with open_memory(config) as memory:
        for i in range(3):
            await memory.transcript.append(turn("a/1 ü", f"q{i}"))
            await memory.transcript.append(turn("b", f"other {i}"))
        turns = await memory.transcript.turns("a/1 ü")
        assert await memory.transcript.turns("unknown") == []
    assert [t.user_text for t in turns] == ["q0", "q1", "q2"]
    assert turns[0] == turn("a/1 ü", "q0").model_copy(update={"at": turns[0].at})


@pytest.mark.parametrize("url", BACKENDS)
async def test_history_window_and_conversations_stay_apart(bot_dir: Path, url: str) -> None:
    config = configure(bot_dir, memory={"url": url, "window_messages": 4})
    async with Bot.open(config) as bot:
        for i in range(5):
            await bot.handle(inbound(f"shipping question {i}", conversation="x"))
        await bot.handle(inbound("returns question", conversation="y"))
        x = await bot._graph.aget_state({"configurable": {"thread_id": "x"}})
        y = await bot._graph.aget_state({"configurable": {"thread_id": "y"}})
    assert [e["user"] for e in x.values["history"]] == [
        "shipping question 3", "shipping question 4"]
    assert [e["user"] for e in y.values["history"]] == ["returns question"]


def checkpoints(bot_dir: Path) -> dict[str, int]:
    with sqlite3.connect(bot_dir / ".parley" / "memory.sqlite") as db:
        return dict(db.execute(
            "SELECT thread_id, COUNT(*) FROM checkpoints GROUP BY thread_id").fetchall())


async def test_sqlite_prunes_superseded_checkpoints_as_turns_go_by(bot_dir: Path) -> None:
    config = configure(bot_dir, memory={"url": "sqlite:.parley/memory.sqlite"})
    async with Bot.open(config) as bot:
        for i in range(3 * PRUNE_EVERY):
            await bot.handle(inbound(f"question {i} about warranty", conversation="w"))
        turns = await bot.conversation("w")
        assert 1 <= checkpoints(bot_dir)["w"] <= PRUNE_EVERY  # not one per turn
        await bot._memory.checkpointer.aprune(["w"])
        assert checkpoints(bot_dir)["w"] == 1
    assert len(turns) == 3 * PRUNE_EVERY  # the transcript keeps every turn
    async with Bot.open(config) as bot:  # the kept checkpoint still carries the history
        state = await bot._graph.aget_state({"configurable": {"thread_id": "w"}})
    last = state.values["history"][-1]["user"]
    assert last == f"question {3 * PRUNE_EVERY - 1} about warranty"
