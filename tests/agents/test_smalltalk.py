"""Greetings, thanks, goodbyes and 'what can you do?' are answered by the bot itself, in the
user's language, without a skill and without touching the documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.scope import skill_topics
from parley_bot.agents.smalltalk import recognize
from parley_bot.knowledge.types import Passage
from tests.conftest import configure
from tests.utils.messages import inbound


class NoDocuments:
    """A knowledge store that fails the test if it is searched."""

    def search(self, query: str, k: int, sources: frozenset[str] | None = None) -> list[Passage]:
        raise AssertionError(f"searched the documents for {query!r}")


@pytest.mark.parametrize(("text", "intent", "language"), [
    ("hi there!", "greeting", "en"),
    ("Hola", "greeting", "es"),
    ("Dzień dobry", "greeting", "pl"),
    ("你好！", "greeting", "zh"),
    ("thanks a lot", "thanks", "en"),
    ("Merci beaucoup !", "thanks", "fr"),
    ("dziekuje", "thanks", "pl"),
    ("Teşekkürler", "thanks", "tr"),
    ("ok thanks, bye", "goodbye", "en"),
    ("Auf Wiedersehen", "goodbye", "de"),
    ("What can you do?", "capabilities", "en"),
    ("¿Qué puedes hacer?", "capabilities", "es"),
    ("hej", "greeting", None),  # Polish, Swedish, Danish: the words do not tell
])
def test_small_talk_is_recognised_in_many_languages(
    text: str, intent: str, language: str | None
) -> None:
    found = recognize(text)
    assert found is not None and (found.intent, found.language) == (intent, language)


@pytest.mark.parametrize("text", [
    "thanks, and how long do returns take?", "hello, do you sell tents?", "ok", "help me return "
    "my boots", "2",
])
def test_a_message_that_is_more_than_small_talk_is_not(text: str) -> None:
    assert recognize(text) is None


async def test_small_talk_gets_short_replies_without_searching(bot_dir: Path) -> None:
    config = load_flows(bot_dir / "flows.yaml")
    async with Bot.open(config, knowledge=NoDocuments()) as bot:
        hello = await bot.handle(inbound("Hello!"))
        thanks = await bot.handle(inbound("thank you"))
        hola = await bot.handle(inbound("hola", "es"))
        bye = await bot.handle(inbound("bye"))
    assert hello.text == "Hello! How can I help you today?"
    assert thanks.text == "You're welcome! Anything else I can help with?"
    assert hola.text == "¡Hola! ¿En qué puedo ayudarte?"
    assert bye.text == "Goodbye, and thanks for getting in touch!"
    assert all(r.citations == () and r.skill is None for r in (hello, thanks, hola, bye))


async def test_what_can_you_do_lists_the_skills(bot_dir: Path) -> None:
    config = load_flows(bot_dir / "flows.yaml")
    async with Bot.open(config, knowledge=NoDocuments()) as bot:
        english = await bot.handle(inbound("what can you do?"))
        polish = await bot.handle(inbound("co potrafisz?", "pl"))
    topics = "\n".join(f"- {s.description.rstrip('.')}" for s in config.skills)
    assert english.text == f"I can help with:\n{topics}"
    assert polish.text == f"Mogę pomóc w tych sprawach:\n{topics}"
    assert skill_topics(config) == [s.description.rstrip(".") for s in config.skills]


async def test_without_skills_what_can_you_do_says_it_answers_from_documents(
    bot_dir: Path,
) -> None:
    config = configure(bot_dir, skills=[], texts={"capabilities_general": "Ask me anything."})
    async with Bot.open(config, knowledge=NoDocuments()) as bot:
        reply = await bot.handle(inbound("help"))
    assert reply.text == "Ask me anything."
