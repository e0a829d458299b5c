"""Language detection offline, for any script: the script decides where it can, fastText's
small model where a script is shared, nothing at all for text too short to tell."""

from __future__ import annotations

import pytest

from parley_bot.knowledge.languages import detect, language_of, script_of


@pytest.mark.parametrize(("text", "language"), [
    ("Where is your store?", "en"),
    ("Czy mogę zwrócić buty?", "pl"),
    ("İstanbul mağazası nerede?", "tr"),
    ("Где находится ваш магазин?", "ru"),
    ("本赛季谁为球队贡献的擒杀最多？", "zh"),
    ("Energiprojekt AB公司位于何处?", "zh"),  # Latin letters inside a Chinese question
    ("東京都に住んでいます", "ja"),
    ("안녕하세요, 매장은 어디에 있나요?", "ko"),
    ("ร้านค้าของคุณอยู่ที่ไหน", "th"),
    ("Πού είναι το κατάστημά σας;", "el"),
    ("أين يقع متجركم؟", "ar"),
    ("आपकी दुकान कहाँ है?", "hi"),
])
def test_languages_of_many_scripts_are_told(text: str, language: str) -> None:
    assert language_of(text) == language


@pytest.mark.parametrize("text", ["2", "?!", "👍", "hi"])
def test_text_too_short_to_tell_has_no_language(text: str) -> None:
    assert detect(text) is None


def test_pinned_languages_limit_the_choice() -> None:
    assert language_of("anything at all", ["pl"]) == "pl"
    assert language_of("Where is your store?", ["en", "pl"]) == "en"


def test_script_of_weighs_han_like_words() -> None:
    assert script_of("C++ 和 Python 的区别") == "Han"
    assert script_of("hello") == "Latin"
