"""Naming an assistant thread from its first question."""

from __future__ import annotations

from parley_bot.channels.slack_assistant import TITLE_CHARS, title


def test_a_title_has_no_mention_markup_and_fits() -> None:
    assert title("<@UBOT>  when are   you open? see <https://a.example|this>") == (
        "when are you open? see this")
    assert len(title("x" * 200)) == TITLE_CHARS
