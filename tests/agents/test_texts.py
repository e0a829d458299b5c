"""The bot's own texts: one string or one per language, checked where flows.yaml is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.errors import ConfigError
from parley_bot.agents.flowsfile import parse_flows
from parley_bot.agents.texts import localize

GREETING = {"en": "Hello", "pl": "Dzień dobry", "pt-BR": "Olá", "zh": "你好"}


@pytest.mark.parametrize(("language", "expected"), [
    ("pl", "Dzień dobry"), ("pt-BR", "Olá"), ("zh-Hans", "你好"), ("tr", "Hello"), (None, "Hello"),
])
def test_picks_the_language_then_its_base_then_english(language: str | None,
                                                        expected: str) -> None:
    assert localize(GREETING, language) == expected


def test_without_english_the_first_language_given_is_the_default() -> None:
    assert localize({"de": "Hallo", "fr": "Bonjour"}, "tr") == "Hallo"
    assert localize("Hi {name}", "pl", name="Ola") == "Hi Ola"


def test_fallback_answer_per_language_is_read_from_flows_yaml() -> None:
    config = parse_flows("name: x\nfallback_answer:\n  en: Sorry.\n  pl: Przepraszam.\n",
                         Path("/b/flows.yaml"))
    assert localize(config.fallback_answer, "pl") == "Przepraszam."


def test_bad_language_codes_and_placeholders_point_at_their_line() -> None:
    text = ("name: x\n"
            "fallback_answer:\n  english: Sorry.\n"
            "texts:\n  too_long: 'Max {limit}, you sent {lenght}'\n")
    with pytest.raises(ConfigError) as caught:
        parse_flows(text, Path("/b/flows.yaml"))
    messages = [str(p).removeprefix("/b/") for p in caught.value.problems]
    assert messages == [
        "flows.yaml:3:3: fallback_answer: 'english' is not a language code "
        "(like 'en', 'pl', 'pt-BR')",
        "flows.yaml:5:13: texts.too_long: unknown placeholder(s) ['lenght'] "
        "(allowed: ['length', 'limit'])",
    ]
