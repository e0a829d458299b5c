"""The in-process `SharedState`: counters per window, values that expire, claims."""

from __future__ import annotations

from parley_bot.agents.shared import InMemoryShared


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_counter_counts_within_its_window_then_starts_again() -> None:
    clock = Clock()
    shared = InMemoryShared(clock)
    assert [await shared.incr("k", 10) for _ in range(3)] == [1, 2, 3]
    clock.now += 9.9
    assert await shared.incr("k", 10) == 4  # the window is not extended by use
    clock.now += 0.2
    assert await shared.incr("k", 10) == 1


async def test_a_claim_succeeds_once_until_it_expires_or_is_deleted() -> None:
    clock = Clock()
    shared = InMemoryShared(clock)
    assert await shared.put("event:1", "w1", 60, only_new=True)
    assert not await shared.put("event:1", "w2", 60, only_new=True)
    assert await shared.get("event:1") == "w1"
    clock.now += 60
    assert await shared.get("event:1") is None
    assert await shared.put("event:1", "w2", 60, only_new=True)
    await shared.delete("event:1")
    await shared.delete("never-set")
    assert await shared.put("event:1", "w3", 60, only_new=True)
