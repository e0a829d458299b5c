"""The 24-hour window and numbered choices, on the shared state every worker sees."""

from __future__ import annotations

from parley_bot.agents.shared import InMemoryShared
from parley_bot.channels.choices import Choices
from parley_bot.channels.messages import Button
from parley_bot.channels.window import WINDOW_S, SessionWindow


async def test_the_window_is_open_for_24_hours_after_the_users_last_message() -> None:
    now = [1_000_000.0]
    window = SessionWindow(InMemoryShared(clock=lambda: now[0]), clock=lambda: now[0])
    assert not await window.is_open("whatsapp:+1555")  # never heard from
    await window.heard("whatsapp:+1555")
    now[0] += WINDOW_S - 1
    assert await window.is_open("whatsapp:+1555")
    now[0] += 2
    assert not await window.is_open("whatsapp:+1555")
    await window.heard("whatsapp:+1555", at=now[0] - WINDOW_S - 60)  # a late record
    assert not await window.is_open("whatsapp:+1555")


async def test_a_number_picks_the_option_last_offered_in_that_conversation() -> None:
    choices = Choices(InMemoryShared())
    await choices.offer("whatsapp:+1", [Button(label="Small", value="S"),
                                        Button(label="Large", value="L")])
    assert await choices.pick("whatsapp:+1", "2") == "L"
    assert await choices.pick("whatsapp:+1", " 1. ") == "S"
    assert await choices.pick("whatsapp:+1", "3") == "3"  # no such option: the text itself
    assert await choices.pick("whatsapp:+2", "1") == "1"  # another conversation's offer
    assert await choices.pick("whatsapp:+1", "size 2") == "size 2"
    await choices.offer("whatsapp:+1", [])  # a reply without choices ends the offer
    assert await choices.pick("whatsapp:+1", "2") == "2"
