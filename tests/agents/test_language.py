"""The bot's own texts follow the message's language, and a message too short to tell keeps
the conversation's: the language is part of the checkpointed state."""

from __future__ import annotations

from pathlib import Path

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from tests.conftest import configure
from tests.utils.messages import inbound
from tests.utils.shops import write_pages

FALLBACK = {"en": "I don't know that one.", "pl": "Nie wiem, przykro mi.",
            "zh": "抱歉，我不知道。", "tr": "Maalesef bilmiyorum."}


def multilingual(bot_dir: Path, **changes: object) -> Path:
    write_pages(bot_dir / "docs", "pl", "zh", "tr")
    settings: dict[str, object] = {
        "skills": [], "fallback_answer": FALLBACK,
        "knowledge": {"sources": [{"name": "docs", "path": "docs"}]}, **changes}
    configure(bot_dir, **settings)
    return bot_dir / "flows.yaml"


async def test_the_fallback_answer_follows_the_message_language(bot_dir: Path) -> None:
    config = load_flows(multilingual(bot_dir))
    async with Bot.open(config) as bot:
        polish = await bot.handle(inbound("Czy sprzedajecie rowery górskie?", "a"))
        chinese = await bot.handle(inbound("你们卖山地自行车吗？", "b"))
        turkish = await bot.handle(inbound("Dağ bisikleti satıyor musunuz?", "c"))
        english = await bot.handle(inbound("Do you sell mountain bikes?", "d"))
    assert [r.text for r in (polish, chinese, turkish, english)] == [
        FALLBACK["pl"], FALLBACK["zh"], FALLBACK["tr"], FALLBACK["en"]]


async def test_a_short_message_keeps_the_conversations_language_across_restarts(
    bot_dir: Path,
) -> None:
    config = load_flows(multilingual(bot_dir))
    async with Bot.open(config) as bot:
        first = await bot.handle(inbound("Czy sprzedajecie rowery górskie?", "c1"))
    async with Bot.open(config) as bot:  # a new process: the language comes from the store
        short = await bot.handle(inbound("hmm", "c1"))
        elsewhere = await bot.handle(inbound("hmm", "c2"))  # a new conversation knows nothing
        state = await bot._graph.aget_state({"configurable": {"thread_id": "api:c1"}})
    assert first.text == short.text == FALLBACK["pl"]
    assert elsewhere.text == FALLBACK["en"]
    assert state.values["language"] == "pl"


async def test_the_guards_refusals_speak_the_conversations_language(bot_dir: Path) -> None:
    config = load_flows(multilingual(
        bot_dir, guard={"max_chars": 60},
        texts={"empty_message": {"en": "Please type your question.",
                                 "pl": "Proszę wpisać pytanie."}}))
    async with Bot.open(config) as bot:
        await bot.handle(inbound("Czy sprzedajecie rowery górskie?"))
        empty = await bot.handle(inbound("   "))
    assert empty.text == "Proszę wpisać pytanie."


async def test_pinned_languages_skip_detection(bot_dir: Path) -> None:
    config = load_flows(multilingual(bot_dir, knowledge={
        "sources": [{"name": "docs", "path": "docs"}], "languages": ["pl"]}))
    async with Bot.open(config) as bot:
        reply = await bot.handle(inbound("rowery?"))  # too short to tell: flows.yaml says
        state = await bot._graph.aget_state({"configurable": {"thread_id": "api:c1"}})
    assert reply.text == FALLBACK["pl"] and state.values["language"] == "pl"
