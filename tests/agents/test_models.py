"""Hosted-model path: the real langchain-openai client against a stand-in server on 127.0.0.1."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.errors import ModelError
from parley_bot.agents.models import build_responders
from parley_bot.agents.models import cited as cited_passages
from parley_bot.channels.messages import OutboundMessage, StreamChunk
from parley_bot.knowledge.types import Chunk, Passage
from tests.conftest import configure, stub_model
from tests.utils.messages import inbound
from tests.utils.metrics import Deltas
from tests.utils.openai_stub import OpenAIStub, quoted_blocks, serving


async def test_model_reply_is_streamed_cited_and_its_usage_recorded(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    openai_stub.reply = lambda request: "Boots can go back within 60 days [1]."
    config = configure(bot_dir, model=stub_model(openai_stub, price_in_per_mtok=1000.0))
    async with Bot.open(config) as bot:
        question = inbound("how long do I have to return boots?")
        items = [item async for item in bot.stream(question)]
        turns = await bot.conversation("api:c1")
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
    model = "openai:stub-model"
    deltas = Deltas(  # errors and timeouts are counted apart
        ("parley_model_errors_total", {"model": model, "kind": "error"}),
        ("parley_model_errors_total", {"model": model, "kind": "timeout"}),
        ("parley_fallbacks_total", {"channel": "api", "skill": "returns", "reason": "model"}))
    with caplog.at_level(logging.WARNING, logger="parley.answer"), \
            caplog.at_level(logging.INFO, logger="parley.turn"):
        async with Bot.open(config) as bot:
            reply = await bot.handle(
                inbound("how long do I have to return boots?", event_id="ev-1"))
    assert deltas() == ([1, 0, 1] if mode == "error" else [0, 1, 1])
    [turn] = [r.fields for r in caplog.records if r.name == "parley.turn"]  # type: ignore[attr-defined]
    assert (turn["model"], turn["fallback"], turn["error"]) == ("extractive", True, False)
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
                               "window_messages": 200},
                       guard={"rate_limit": {"per_user": 100, "per_conversation": 100}})
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


async def test_a_stream_cut_part_way_is_reset_before_the_fallback_answer(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    openai_stub.mode = "cut"
    openai_stub.reply = lambda request: "Boots can go back within sixty days, unworn [1]."
    config = configure(bot_dir, model=stub_model(openai_stub))
    async with Bot.open(config) as bot:
        items = [item async for item in bot.stream(inbound("how long do I have to return boots?"))]
    kinds = [type(item).__name__ for item in items]
    reset = kinds.index("StreamReset")
    assert "StreamChunk" in kinds[:reset]  # the model's first words were shown ...
    shown = "".join(i.delta for i in items[:reset] if isinstance(i, StreamChunk))
    assert shown == "Boots can go bac"
    after = [i.delta for i in items[reset:] if isinstance(i, StreamChunk)]  # ... then replaced
    reply = items[-1]
    assert isinstance(reply, OutboundMessage) and reply.fallback
    assert "".join(after) == reply.text and "60 days" in reply.text
    assert kinds.count("StreamReset") == 1


@pytest.mark.parametrize("openai_key", [None, "sk-real-openai-key"])
async def test_a_local_server_needs_no_key_and_never_gets_openais(
    bot_dir: Path, openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch,
    openai_key: str | None,
) -> None:
    if openai_key is None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    config = configure(bot_dir, model={"name": "openai:local", "base_url": openai_stub.base_url})
    async with Bot.open(config) as bot:
        reply = await bot.handle(inbound("how long do I have to return boots?"))
    assert reply.text == "Stand-in answer [1]." and not reply.fallback
    assert openai_stub.keys == ["no-key"]


@pytest.mark.parametrize(("answer", "cited"), [
    ("Within 60 days [1, 2].", ["returns.md", "shipping.md"]),
    ("Within 60 days [2][1].", ["shipping.md", "returns.md"]),
    ("Within 60 days [1; 2] and [2].", ["returns.md", "shipping.md"]),
    ("Within 60 days [7].", []),
])
def test_citations_in_any_common_form_are_read(answer: str, cited: list[str]) -> None:
    passages = [Passage(chunk=Chunk(id=name, source="docs", uri=name, title=name, text="x"),
                        score=1.0) for name in ("returns.md", "shipping.md")]
    assert [passages[i].chunk.uri for i in cited_passages(answer, len(passages))] == cited


async def test_the_model_is_told_to_answer_in_the_language_of_the_message(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    (bot_dir / "knowledge" / "docs" / "zwroty.md").write_text(
        "# Zwroty\n\nButy można zwrócić w ciągu 60 dni od dostawy.\n")
    config = configure(bot_dir, model=stub_model(openai_stub))
    async with Bot.open(config) as bot:
        await bot.handle(inbound("Jak długo mogę zwrócić buty?"))
    system = openai_stub.requests[-1]["messages"][0]["content"]
    assert "Answer in the language of the user's message (language code: pl)" in system
