"""Memory outlives the process: a second `parley chat` continues the first one's conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from parley_bot.channels.messages import InboundMessage
from tests.conftest import configure, stub_model
from tests.utils.cli import parley
from tests.utils.openai_stub import OpenAIStub


def test_a_second_process_continues_the_conversation(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    configure(bot_dir, model=stub_model(openai_stub))
    first = parley("chat", "--conversation", "order-7", cwd=bot_dir,
                   stdin="my order number is 4711 and the boots are too small\n")
    assert first.returncode == 0, first.stderr
    second = parley("chat", "--conversation", "order-7", cwd=bot_dir,
                    stdin="can I exchange them for a bigger size?\n")
    assert second.returncode == 0, second.stderr

    assert len(openai_stub.requests) == 2
    assert openai_stub.user_texts(openai_stub.requests[1]) == [
        "my order number is 4711 and the boots are too small",
        "can I exchange them for a bigger size?",
    ]
    other = parley("chat", "--conversation", "someone-else", cwd=bot_dir,
                   stdin="what does the warranty cover?\n")
    assert other.returncode == 0
    assert openai_stub.user_texts(openai_stub.requests[2]) == ["what does the warranty cover?"]


@pytest.mark.parametrize("url", ["sqlite:.parley/memory.sqlite", "sqlite:state/other.db"])
async def test_transcript_survives_reopening_the_store(bot_dir: Path, url: str) -> None:
    config = configure(bot_dir, memory={"url": url})
    message = InboundMessage(channel="api", conversation_id="c", text="how much is shipping?")
    async with Bot.open(config) as bot:
        await bot.handle(message)
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        turns = await bot.conversation("c")
    assert [t.user_text for t in turns] == ["how much is shipping?"]
    assert (bot_dir / url.removeprefix("sqlite:")).is_file()
