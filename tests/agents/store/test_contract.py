"""One contract, every backend: the same behaviour tests through `Store`, not through `Bot`.

Expiry tests wait out leases and windows of a fraction of a second: the backends keep time
with real clocks (Redis with the server's), so there is no event to wait for instead.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from langgraph.checkpoint.base import empty_checkpoint

from parley_bot.agents.errors import ConversationBusy
from parley_bot.agents.store.base import PRUNE_EVERY, Store
from parley_bot.channels.messages import Citation, Feedback, Turn
from tests.agents.store.conftest import SHARED, store_location
from tests.utils.stores import opened


def turn(conversation: str, text: str) -> Turn:
    channel, _, local = conversation.partition(":")
    return Turn(channel=channel, conversation_id=local, user_text=text,  # type: ignore[arg-type]
                reply=f"re: {text}", at=datetime.now(UTC),
                citations=(Citation(title="Returns", uri="returns.md", location="p. 2"),))


async def checkpoint(store: Store, conversation: str) -> None:
    """Store one more checkpoint of the conversation, as a turn of the graph would."""
    saver = store.checkpointer
    latest = await saver.aget_tuple({"configurable": {"thread_id": conversation}})
    config = latest.config if latest else {"configurable": {"thread_id": conversation,
                                                           "checkpoint_ns": ""}}
    await saver.aput(config, empty_checkpoint(), {"source": "loop", "step": 1}, {})


async def checkpoint_count(store: Store, conversation: str) -> int:
    config = {"configurable": {"thread_id": conversation, "checkpoint_ns": ""}}
    return len([c async for c in store.checkpointer.alist(config)])


async def test_transcript_pages_back_from_the_latest_turn(store: Store) -> None:
    for i in range(5):
        await store.append(turn("api:a/1 ü", f"q{i}"))
        await store.append(turn("slack:T1:C1:17.1", f"other {i}"))
    every = await store.turns("api:a/1 ü")
    assert [t.user_text for t in every] == ["q0", "q1", "q2", "q3", "q4"]
    assert every[0] == turn("api:a/1 ü", "q0").model_copy(
        update={"id": every[0].id, "at": every[0].at})
    page = await store.turns("api:a/1 ü", limit=2)
    assert [t.user_text for t in page] == ["q3", "q4"]
    older = await store.turns("api:a/1 ü", limit=2, before=page[0].id)
    assert [t.user_text for t in older] == ["q1", "q2"]
    assert [t.user_text for t in await store.turns("api:a/1 ü", before=older[0].id)] == ["q0"]
    assert await store.turns("api:a/1 ü", before=every[0].id) == []
    assert await store.turns("api:a/1 ü", before="no-such-turn") == []
    assert await store.turns("api:a/1 ü", limit=0) == []
    assert await store.turns("api:unknown") == []


async def test_append_counts_the_conversations_turns(store: Store) -> None:
    assert [await store.append(turn("web:s1", f"q{i}")) for i in range(3)] == [1, 2, 3]
    assert await store.append(turn("web:s2", "q")) == 1


async def test_a_turns_checkpoint_is_stored_only_with_its_record(store: Store) -> None:
    config = {"configurable": {"thread_id": "api:c", "checkpoint_ns": ""}}
    with store.holding("api:c") as held:
        stored = await store.checkpointer.aput(config, empty_checkpoint(), {"step": 1}, {})
        await store.checkpointer.aput_writes(stored, [("channel", "value")], "task-1")
        await checkpoint(store, "api:other")  # other conversations are not held back
    assert await store.checkpointer.aget_tuple(config) is None
    assert await checkpoint_count(store, "api:other") == 1
    assert await store.append(turn("api:c", "q"), held) == 1
    latest = await store.checkpointer.aget_tuple(config)
    assert latest is not None and latest.config == stored
    assert latest.pending_writes == [("task-1", "channel", "value")]


async def test_feedback_is_kept_with_its_turn_and_can_change(store: Store) -> None:
    first, second = turn("api:c", "q1"), turn("api:c", "q2")
    await store.append(first)
    await store.append(second)
    assert await store.feedback("api:c", second.id, Feedback(rating=-1, comment="wrong size"))
    assert await store.feedback("api:c", second.id, Feedback(rating=1))
    assert not await store.feedback("api:c", "no-such-turn", Feedback(rating=1))
    assert not await store.feedback("api:other", first.id, Feedback(rating=1))
    turns = await store.turns("api:c")
    assert turns[0].feedback is None
    assert turns[1].feedback is not None and turns[1].feedback.rating == 1
    assert turns[1].feedback.comment is None


async def test_a_conversation_is_held_by_one_turn_at_a_time(store: Store) -> None:
    order: list[str] = []
    entered = asyncio.Event()

    async def first() -> None:
        async with store.lock("api:c"):
            entered.set()
            order.append("first in")
            await asyncio.sleep(0.05)
            order.append("first out")

    async def second() -> None:
        await entered.wait()
        async with store.lock("api:c"):
            order.append("second in")

    async with store.lock("api:other", wait_s=0):  # other conversations are not held
        await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]


async def test_a_turn_recorded_under_its_lock_frees_the_conversation_by_the_blocks_end(
    store: Store,
) -> None:
    async with store.lock("api:c") as lease:
        with store.holding("api:c", lease) as held:
            await checkpoint(store, "api:c")
        assert await store.append(turn("api:c", "q"), held) == 1
    async with store.lock("api:c", wait_s=0):
        pass
    assert await checkpoint_count(store, "api:c") == 1


async def test_a_turn_that_waits_too_long_is_told_the_conversation_is_busy(store: Store) -> None:
    async with store.lock("api:c"):
        with pytest.raises(ConversationBusy, match="api:c"):
            async with store.lock("api:c", wait_s=0.05):
                pass
    async with store.lock("api:c", wait_s=0):
        pass


async def test_a_crashed_holders_lease_runs_out(store: Store) -> None:
    assert await store.acquire("api:c", "crashed-worker", lease_s=0.3)
    assert not await store.acquire("api:c", "another", lease_s=0.3)
    async with store.lock("api:c", wait_s=5):
        assert not await store.renew("api:c", "crashed-worker", lease_s=30)
    await store.release("api:c", "crashed-worker")  # too late: a no-op


async def test_a_long_turn_keeps_renewing_its_lease(store: Store) -> None:
    async with store.lock("api:c", lease_s=0.3):
        await asyncio.sleep(0.8)
        assert not await store.acquire("api:c", "another", lease_s=1)
    assert await store.acquire("api:c", "another", lease_s=1)


async def test_an_event_is_claimed_once(store: Store) -> None:
    assert await store.claim("slack:T:C:1", "Ev1", ttl_s=0.3)
    assert not await store.claim("slack:T:C:1", "Ev1", ttl_s=0.3)
    assert await store.claim("slack:T:C:1", "Ev2", ttl_s=0.3)
    assert await store.claim("slack:T:C:2", "Ev1", ttl_s=0.3)
    await asyncio.sleep(0.35)
    assert await store.claim("slack:T:C:1", "Ev1", ttl_s=60)


async def test_rate_limits_count_per_key_within_a_window(store: Store) -> None:
    limits = {"user:api:u1": 3, "conversation:api:c1": 4}
    allowed = [await store.allow(limits, window_s=0.3) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    assert await store.allow({"user:api:u2": 3, "conversation:api:c1": 6}, window_s=0.3)
    assert not await store.allow({"user:api:u3": 3, "conversation:api:c1": 6}, window_s=0.3)
    await asyncio.sleep(0.35)
    assert await store.allow(limits, window_s=0.3)


async def test_shared_state_counters_values_and_claims(store: Store) -> None:
    assert [await store.incr("breaker:m", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.put("open:m", "until-7", 60)
    assert await store.get("open:m") == "until-7"
    assert not await store.put("open:m", "other", 60, only_new=True)
    assert await store.put("open:m", "replaced", 60)
    await store.delete("open:m")
    await store.delete("never-set")
    assert await store.get("open:m") is None
    assert await store.put("short", "x", 0.2, only_new=True)
    await asyncio.sleep(0.25)
    assert await store.get("short") is None
    assert await store.put("short", "y", 60, only_new=True)


async def test_pruning_is_per_conversation_when_conversations_take_turns(store: Store) -> None:
    """16 conversations in rotation: each is pruned on its own 16th turn (one counter for
    all would prune one conversation every turn and the other 15 never)."""
    conversations = [f"api:c{i}" for i in range(16)]
    for _ in range(2 * PRUNE_EVERY):
        for conversation in conversations:
            await checkpoint(store, conversation)
            await store.record(turn(conversation, "q"))
    counts = [await checkpoint_count(store, c) for c in conversations]
    assert counts == [1] * 16  # pruned just now, on turn 32 of each
    for conversation in conversations:
        await checkpoint(store, conversation)
        await store.record(turn(conversation, "q"))
    assert [await checkpoint_count(store, c) for c in conversations] == [2] * 16
    assert len(await store.turns("api:c7")) == 2 * PRUNE_EVERY + 1  # the transcript keeps all


async def test_deleting_a_conversation_erases_everything_of_it(store: Store) -> None:
    for conversation in ("whatsapp:+4915112345678", "whatsapp:+4915199999999"):
        await checkpoint(store, conversation)
        await store.append(turn(conversation, "my address is Hauptstr. 1"))
        await store.claim(conversation, "SM1", ttl_s=60)
        await store.allow({f"conversation:{conversation}": 1}, window_s=60)
    await store.delete_conversation("whatsapp:+4915112345678")
    await store.delete_conversation("whatsapp:+4900000")  # unknown: nothing to do

    gone = "whatsapp:+4915112345678"
    assert await checkpoint_count(store, gone) == 0
    assert await store.turns(gone) == []
    assert await store.claim(gone, "SM1", ttl_s=60)
    assert await store.allow({f"conversation:{gone}": 1}, window_s=60)
    kept = "whatsapp:+4915199999999"
    assert await checkpoint_count(store, kept) == 1
    assert len(await store.turns(kept)) == 1
    assert not await store.claim(kept, "SM1", ttl_s=60)


# -- across processes ----------------------------------------------------------------------


class Worker:
    """A second process on the same store (`tests/utils/store_worker.py`)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        assert self.read() == "ready"

    def send(self, line: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.read()

    def read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()


@dataclass
class Shared:
    """A store a second process can open too."""

    store: Store
    args: tuple[str, str, str]
    """backend, location, key prefix: how `tests.utils.store_worker` opens it."""


@pytest.fixture(params=SHARED)
async def shared(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, redis_prefix: str
) -> AsyncIterator[Shared]:
    location = store_location(request.param, tmp_path, redis_url)
    async with opened(request.param, location, redis_prefix) as store:
        yield Shared(store, (request.param, location, redis_prefix))


@contextmanager
def worker(shared: Shared) -> Iterator[Worker]:
    process = subprocess.Popen([sys.executable, "-m", "tests.utils.store_worker", *shared.args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).parents[3])
    try:
        yield Worker(process)
    finally:
        process.kill()
        process.wait()


async def test_a_lock_holds_across_processes(shared: Shared) -> None:
    with worker(shared) as other:
        assert other.send("lock api:c 30") == "locked"
        with pytest.raises(ConversationBusy):
            async with shared.store.lock("api:c", wait_s=0.2):
                pass
        assert other.send("claim api:c Ev1") == "True"
        assert not await shared.store.claim("api:c", "Ev1", ttl_s=60)
        assert other.send("release") == "released"
        async with shared.store.lock("api:c", wait_s=0):
            assert other.send("claim api:c Ev1") == "False"


async def test_a_crashed_process_frees_its_lock_when_its_lease_runs_out(shared: Shared) -> None:
    with worker(shared) as other:
        assert other.send("lock api:c 0.4") == "locked"
        await asyncio.sleep(1.0)  # past its first lease: it renews from its own process
        assert not await shared.store.acquire("api:c", "mine", lease_s=30)
        other.process.kill()
        other.process.wait()
    async with shared.store.lock("api:c", wait_s=2):
        pass
