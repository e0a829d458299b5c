"""The bot on its store: memory outlives the process, conversations stay apart, rate limits
decline politely, and a store that fails mid-turn leaves nothing half-written."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.store.redis import RedisStore
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import InboundMessage, OutboundMessage, Turn
from tests.conftest import configure, stub_model
from tests.utils.cli import parley
from tests.utils.messages import inbound
from tests.utils.openai_stub import OpenAIStub
from tests.utils.redis_server import redis_server
from tests.utils.stores import FailingRecords


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
        reply = await bot.handle(message)
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        turns = await bot.conversation("api:c")
    assert [(t.id, t.user_text) for t in turns] == [(reply.turn_id, "how much is shipping?")]
    assert (bot_dir / url.removeprefix("sqlite:")).is_file()


async def test_redis_url_from_the_environment_when_flows_yaml_names_no_store(
    bot_dir: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        assert isinstance(bot.store, RedisStore)
        await bot.handle(inbound("how much is shipping?", conversation="env-test"))
        assert len(await bot.conversation("api:env-test")) == 1
        await bot.forget("api:env-test")
    assert not (bot_dir / ".parley" / "memory.sqlite").exists()


@pytest.mark.parametrize("url", ["memory:", "sqlite:.parley/memory.sqlite", "redis"])
async def test_history_window_and_conversations_stay_apart(
    bot_dir: Path, url: str, redis_url: str, redis_prefix: str
) -> None:
    config = configure(bot_dir, memory={"url": redis_url if url == "redis" else url,
                                        "window_messages": 4})
    x, y = f"{redis_prefix}-x", f"{redis_prefix}-y"
    async with Bot.open(config) as bot:
        for i in range(5):
            await bot.handle(inbound(f"shipping question {i}", conversation=x))
        await bot.handle(InboundMessage(channel="web", conversation_id=x, text="returns?"))
        x_state = await bot._graph.aget_state({"configurable": {"thread_id": f"api:{x}"}})
        web_state = await bot._graph.aget_state({"configurable": {"thread_id": f"web:{x}"}})
        await bot.handle(inbound("returns question", conversation=y))
        y_state = await bot._graph.aget_state({"configurable": {"thread_id": f"api:{y}"}})
        for key in (f"api:{x}", f"web:{x}", f"api:{y}"):
            await bot.forget(key)
    assert [e["user"] for e in x_state.values["history"]] == [
        "shipping question 3", "shipping question 4"]
    assert [e["user"] for e in web_state.values["history"]] == ["returns?"]
    assert [e["user"] for e in y_state.values["history"]] == ["returns question"]


async def test_over_the_rate_limit_a_message_is_declined_and_not_kept(bot_dir: Path) -> None:
    config = configure(bot_dir, memory="memory:", guard={
        "rate_limit": {"per_user": 3, "per_conversation": 2, "window_s": 60}})
    async with Bot.open(config) as bot:
        replies = [await bot.handle(inbound(f"shipping {i}", conversation="c1")) for i in range(3)]
        same_user = await bot.handle(inbound("shipping", conversation="c2"))
        other_user = await bot.handle(InboundMessage(
            channel="api", conversation_id="c3", user_id="u3", text="shipping"))
        turns = await bot.conversation("api:c1")
        assert await bot.conversation("api:c2") == []
    assert [r.declined for r in replies] == [None, None, "rate_limited"]  # per conversation
    assert replies[2].text == localize(config.texts.rate_limited) and replies[2].turn_id is None
    assert same_user.declined == "rate_limited"  # the user's 4th message
    assert other_user.declined is None
    assert [t.id for t in turns] == [r.turn_id for r in replies[:2]]


async def test_the_terminal_is_not_rate_limited(bot_dir: Path) -> None:
    """The terminal is the bot's own operator at the keyboard (or a file piped in, one turn
    per line): limits are for strangers on the network."""
    config = configure(bot_dir, memory="memory:", guard={
        "rate_limit": {"per_user": 1, "per_conversation": 1, "window_s": 60}})
    async with Bot.open(config) as bot:
        replies = [await bot.handle(InboundMessage(channel="terminal", conversation_id="t",
                                                   text=f"shipping {i}")) for i in range(3)]
    assert [r.declined for r in replies] == [None, None, None]


async def test_a_turn_the_store_could_not_record_is_not_remembered(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    config = configure(bot_dir, model=stub_model(openai_stub))
    store = FailingRecords()
    async with Bot.open(config, store=store) as bot:
        await bot.handle(inbound("my order is 4711"))
        store.failures = 1
        lost = await bot.handle(inbound("and my name is Ann"))
        store.failures = 1
        lost_again = await bot.handle(inbound("and I live in Berlin"))
        after = await bot.handle(inbound("can I return the boots?"))
        turns = await bot.conversation("api:c1")
    assert lost.declined == lost_again.declined == "unavailable"
    assert lost.text == localize(config.texts.unavailable) and lost.turn_id is None
    assert openai_stub.user_texts(openai_stub.requests[-1]) == [
        "my order is 4711", "can I return the boots?"]
    assert [t.user_text for t in turns] == ["my order is 4711", "can I return the boots?"]
    assert after.turn_id == turns[-1].id


async def test_a_first_turn_the_store_could_not_record_is_not_remembered(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    config = configure(bot_dir, model=stub_model(openai_stub))
    store = FailingRecords()
    store.failures = 1
    async with Bot.open(config, store=store) as bot:
        assert (await bot.handle(inbound("my order is 4711"))).declined == "unavailable"
        await bot.handle(inbound("can I return the boots?"))
    assert openai_stub.user_texts(openai_stub.requests[-1]) == ["can I return the boots?"]


def went_on(config: FlowsConfig, stub: OpenAIStub, down: OutboundMessage,
            after: OutboundMessage, turns: list[Turn]) -> None:
    """The message sent while the store was down got "try again" and left nothing; the
    conversation went on from the turn before it."""
    assert down.declined == "unavailable" and down.text == localize(config.texts.unavailable)
    assert after.declined is None and not after.fallback
    assert stub.user_texts(stub.requests[-1]) == ["my order is 4711", "can I return the boots?"]
    assert [t.user_text for t in turns] == ["my order is 4711", "can I return the boots?"]


async def test_a_full_disk_gets_try_again_and_the_conversation_goes_on(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    config = configure(bot_dir, model=stub_model(openai_stub))
    async with Bot.open(config) as bot:
        await bot.handle(inbound("my order is 4711"))
        conn = bot.store.conn  # type: ignore[attr-defined]
        async with conn.execute("PRAGMA page_count") as cursor:
            row = await cursor.fetchone()
        await conn.execute(f"PRAGMA max_page_count = {row[0]}")  # the disk is full
        full = await bot.handle(inbound("and my name is Ann " * 200))
        await conn.execute("PRAGMA max_page_count = 1073741823")  # space again
        after = await bot.handle(inbound("can I return the boots?"))
        turns = await bot.conversation("api:c1")
    went_on(config, openai_stub, full, after, turns)


async def test_killing_redis_mid_conversation_gets_try_again_and_then_it_goes_on(
    bot_dir: Path, openai_stub: OpenAIStub, tmp_path: Path
) -> None:
    with redis_server(tmp_path / "redis", persist=True) as server:
        config = configure(bot_dir, model=stub_model(openai_stub), memory={"url": server.url})
        async with Bot.open(config) as bot:
            await bot.handle(inbound("my order is 4711"))
            server.stop()
            down = await bot.handle(inbound("and my name is Ann"))
            server.start()
            after = await bot.handle(inbound("can I return the boots?"))
            turns = await bot.conversation("api:c1")
    went_on(config, openai_stub, down, after, turns)


async def test_an_events_retry_is_claimed_once_until_the_conversation_is_forgotten(
    bot_dir: Path,
) -> None:
    config = configure(bot_dir, memory="memory:")
    event = InboundMessage(channel="slack", conversation_id="T1:C2:17.1", text="hi",
                           event_id="Ev1")
    async with Bot.open(config) as bot:
        first, retry = await bot.claim(event), await bot.claim(event)
        other_channel = await bot.claim(event.model_copy(update={"channel": "web"}))
        no_id = [await bot.claim(event.model_copy(update={"event_id": None})) for _ in "ab"]
        await bot.forget(event.key)
        after_erasure = await bot.claim(event)
    assert (first, retry, other_channel, no_id, after_erasure) == (
        True, False, True, [True, True], True)


@pytest.mark.parametrize("url", ["sqlite:.parley/memory.sqlite", None])
async def test_messages_of_one_conversation_are_taken_in_the_order_they_arrived(
    bot_dir: Path, url: str | None
) -> None:
    """A channel hands each message to its own task as it arrives (Slack, WhatsApp): the
    turns run, and are stored, in that order."""
    config = configure(bot_dir, memory={"url": url} if url else {})
    texts = [f"question {n}: how much is shipping?" for n in range(8)]
    async with Bot.open(config) as bot:
        await asyncio.gather(*(bot.handle(inbound(text, "busy")) for text in texts))
        turns = await bot.conversation("api:busy")
    assert [t.user_text for t in turns] == texts
