"""Long replies in parts: widest boundary first, order and text kept."""

from __future__ import annotations

import pytest

from parley_bot.channels.split import split_text


def test_short_text_is_one_part_and_blank_is_none() -> None:
    assert split_text("  Hello there.  ", 1600) == ["Hello there."]
    assert split_text(" \n ", 1600) == []


def test_paragraphs_are_packed_and_cut_between() -> None:
    first, second, third = "A" * 700, "B" * 700, "C" * 700
    parts = split_text(f"{first}\n\n{second}\n\n{third}", 1600)
    assert parts == [f"{first}\n\n{second}", third]


def test_a_long_paragraph_is_cut_between_sentences() -> None:
    sentences = [f"Sentence number {i} ends here." for i in range(100)]
    parts = split_text(" ".join(sentences), 300)
    assert all(len(p) <= 300 for p in parts)
    assert all(p.endswith("ends here.") for p in parts)
    assert " ".join(parts) == " ".join(sentences)


def test_list_lines_stay_whole() -> None:
    items = [f"• item {i}: something to say about it" for i in range(60)]
    parts = split_text("Options:\n" + "\n".join(items), 500)
    assert all(len(p) <= 500 for p in parts)
    assert "\n".join(parts).splitlines() == ["Options:", *items]


def test_sentences_of_any_script_and_words_longer_than_a_part() -> None:
    assert split_text("你好。今天天气很好。", 7) == ["你好。", "今天天气很好。"]
    assert split_text("Hi! Is it? Yes.", 8) == ["Hi!", "Is it?", "Yes."]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        split_text("hi", 0)
