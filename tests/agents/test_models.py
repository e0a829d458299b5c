"""Hosted-model path: the real langchain-openai client against a stand-in server on 127.0.0.1."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.errors import ModelError
from parley_bot.agents.models import build_responders
from parley_bot.channels.messages import OutboundMessage, StreamChunk
from tests.conftest import configure, stub_model
from tests.utils.messages import inbound
from tests.utils.openai_stub import OpenAIStub, quoted_blocks, serving


async def test_model_reply_is_streamed_cited_and_its_usage_recorded(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    openai_stub.reply = lambda request: "Boots can go back within 60 days [1]."
    config = configure(bot_dir, model=stub_model(openai_stub, price_in_per_mtok=1000.0))
    async with Bot.open(config) as bot:
        question = inbound("how long do I have to return boots?")
        items = [item async for item in bot.stream(question)]
        turns = await bot.conversation("c1")
    chunks = [i.delta for i in items if isinstance(i, StreamChunk)]
    reply = items[-1]
    assert isinstance(reply, OutboundMessage)
    assert len(chunks) > 1 and "".join(chunks) == reply.text
    assert reply.text == "Boots can go back within 60 days [1]."
    assert not reply.fallback
    assert [c.uri for c in reply.citations] == ["returns.md"]
    request = openai_stub.requests[-1]
    assert request["model"] == "stub-model" and request["stream"] is True
    assert "returns.md" in quoted_blocks(request["messages"][-1]["content"])["SOURCES"]
    assert reply.usage is not None
    assert reply.usage.model == "openai:stub-model"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (
        42 + len(request["messages"]), 7)
    assert reply.usage.cost_usd == pytest.approx(reply.usage.input_tokens * 1000.0 / 1e6)
    assert turns[-1].usage == reply.usage


@pytest.mark.parametrize("mode", ["error", "hang"])
async def test_dead_or_hanging_model_falls_back_to_the_extractive_answer(
    bot_dir: Path, openai_stub: OpenAIStub, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    openai_stub.mode = mode  # type: ignore[assignment]
    config = configure(bot_dir, model=stub_model(openai_stub, timeout_s=1))
    with caplog.at_level(logging.WARNING, logger="parley.answer"):
        async with Bot.open(config) as bot:
            reply = await bot.handle(
                inbound("how long do I have to return boots?", event_id="ev-1"))
    assert len(openai_stub.requests) == 1  # tried once, no retries hiding the failure
    assert reply.fallback
    assert "60 days" in reply.text
    assert [c.uri for c in reply.citations] == ["returns.md"]
    assert reply.usage is not None and reply.usage.model == "extractive"
    failure = "no answer within 1 s" if mode == "hang" else "Error code: 500"
    assert any(
        failure in r.getMessage() and "conversation=c1" in r.getMessage() and "event=ev-1"
        in r.getMessage() for r in caplog.records
    ), [r.getMessage() for r in caplog.records]


async def test_fallback_models_are_tried_in_order(bot_dir: Path, openai_stub: OpenAIStub) -> None:
    openai_stub.mode = "error"
    with serving(OpenAIStub(reply=lambda request: "From the backup model [1].")) as backup:
        config = configure(bot_dir, model=stub_model(openai_stub),
                           fallback_models=[stub_model(backup)])
        async with Bot.open(config) as bot:
            reply = await bot.handle(inbound("how much is express shipping?"))
    assert reply.text == "From the backup model [1]."
    assert reply.fallback
    assert len(openai_stub.requests) == 1 and len(backup.requests) == 1


async def test_history_sent_to_the_model_stays_within_the_token_budget(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    config = configure(bot_dir, model=stub_model(openai_stub),
                       memory={"url": "sqlite:.parley/memory.sqlite", "history_tokens": 120,
                               "window_messages": 200})
    async with Bot.open(config) as bot:
        for i in range(30):
            await bot.handle(inbound(f"turn {i}: tell me about the warranty on backpacks please"))
    sizes = [len(r["messages"]) for r in openai_stub.requests]
    assert sizes[1] > sizes[0]  # history is sent ...
    assert max(sizes) == sizes[-1] < 16  # ... but bounded, so cost per turn stops growing
    last_users = openai_stub.user_texts(openai_stub.requests[-1])
    assert last_users[-1].startswith("turn 29:") and last_users[-2].startswith("turn 28:")


def test_an_unset_api_key_variable_is_a_clear_setup_error(
    bot_dir: Path, openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUB_KEY")
    config = configure(bot_dir, model=stub_model(openai_stub))
    with pytest.raises(ModelError, match="environment variable STUB_KEY is not set"):
        build_responders(config.models)


async def test_an_answer_that_cites_nothing_gets_no_citation(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    openai_stub.reply = lambda request: "Our help pages don't say, sorry."
    config = configure(bot_dir, model=stub_model(openai_stub))
    async with Bot.open(config) as bot:
        reply = await bot.handle(inbound("can I return boots I bought in 1999?"))
    assert reply.text == "Our help pages don't say, sorry."
    assert reply.citations == ()
