"""What only the Redis store promises: one slot per conversation, a TTL renewed by every
write, a turn's lock given up with its record, and the checkpointer's sync methods."""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from langgraph.checkpoint.base import empty_checkpoint

from parley_bot.agents.store.redis import RedisStore
from parley_bot.agents.store.redis_saver import tag
from parley_bot.channels.messages import Feedback, Turn

AWKWARD = "web:{a}%7B}b{"  # braces end a hash tag early unless escaped


def turn(text: str) -> Turn:
    return Turn(channel="web", conversation_id=AWKWARD[4:], user_text=text, reply="ok",
                at=datetime.now(UTC))


async def test_a_conversations_keys_share_one_slot_and_no_other_conversations(
    redis_cluster_url: str,
) -> None:
    async with RedisStore.open(redis_cluster_url, prefix="slots") as store:
        config = {"configurable": {"thread_id": AWKWARD, "checkpoint_ns": ""}}
        stored = await store.checkpointer.aput(config, empty_checkpoint(), {"step": 1}, {})
        await store.checkpointer.aput_writes(stored, [("channel", "value")], "task-1")
        first = turn("hello")
        await store.append(first)
        await store.feedback(AWKWARD, first.id, Feedback(rating=1))
        await store.claim(AWKWARD, "E1", ttl_s=60)
        async with store.lock(AWKWARD):
            keys = [k.decode() for k in await store.client.keys(f"slots:{{{tag(AWKWARD)}}}:*")]
            slots = {store.client.keyslot(k) for k in keys}
        assert len(keys) == 8 and len(slots) == 1
        assert tag(AWKWARD) == "web:%7Ba%7D%257B%7Db%7B"
        await store.delete_conversation(AWKWARD)
        assert await store.client.keys("slots:*") == []


async def test_every_write_renews_the_conversations_ttl(redis_url: str, redis_prefix: str) -> None:
    async with RedisStore.open(redis_url, prefix=redis_prefix, ttl_s=1000) as store:
        config = {"configurable": {"thread_id": AWKWARD, "checkpoint_ns": ""}}
        stored = await store.checkpointer.aput(config, empty_checkpoint(), {"step": 1}, {})
        await store.checkpointer.aput_writes(stored, [("channel", "value")], "task-1")
        await store.append(turn("hello"))
        keys = await store.client.keys(f"{redis_prefix}:*")
        assert len(keys) == 5
        for key in keys:
            await store.client.expire(key, 10)
        await store.append(turn("again"))
        assert sorted([await store.client.ttl(k) for k in keys]) == [1000] * 5
        await store.delete_conversation(AWKWARD)
    async with RedisStore.open(redis_url, prefix=redis_prefix) as no_ttl:  # kept until deleted
        await no_ttl.append(turn("hello"))
        assert await no_ttl.client.ttl(f"{redis_prefix}:{{{tag(AWKWARD)}}}:turns") == -1
        await no_ttl.delete_conversation(AWKWARD)


async def test_the_sync_methods_read_and_write_the_same_checkpoints(
    redis_url: str, redis_prefix: str
) -> None:
    async with RedisStore.open(redis_url, prefix=redis_prefix) as store:
        saver = store.checkpointer
        config = {"configurable": {"thread_id": "api:sync", "checkpoint_ns": ""}}
        first = saver.put(config, empty_checkpoint(), {"step": 1}, {})
        saver.put_writes(first, [("channel", "value")], "task-1")
        second = await saver.aput(first, empty_checkpoint(), {"step": 2}, {})
        latest = saver.get_tuple(config)
        assert latest is not None and latest.config == second
        assert [t.metadata["step"] for t in saver.list(config)] == [2, 1]
        pending = (await saver.aget_tuple(first)).pending_writes  # type: ignore[union-attr]
        assert pending == [("task-1", "channel", "value")]
        saver.prune(["api:sync"])
        assert [t.config for t in saver.list(config)] == [second]
        saver.delete_thread("api:sync")
        assert saver.get_tuple(config) is None
        assert isinstance(saver.sync_client, redis.Redis)


async def test_a_turns_record_gives_up_its_lock_and_only_its_own(
    redis_url: str, redis_prefix: str
) -> None:
    async with RedisStore.open(redis_url, prefix=redis_prefix) as store:
        async with store.lock(AWKWARD) as lease:
            with store.holding(AWKWARD, lease) as held:
                config = {"configurable": {"thread_id": AWKWARD, "checkpoint_ns": ""}}
                await store.checkpointer.aput(config, empty_checkpoint(), {"step": 1}, {})
            assert not await store.acquire(AWKWARD, "next", 10)
            await store.append(turn("hello"), held)
            assert lease.released
            assert await store.acquire(AWKWARD, "next", 10)  # free with the record stored
        assert not await store.acquire(AWKWARD, "third", 10)  # the block's end left it held
        await store.release(AWKWARD, "next")
        stranger, lock = turn("stranger"), f"{redis_prefix}:{{{tag(AWKWARD)}}}:lock"
        async with store.lock(AWKWARD) as lease:
            with store.holding(AWKWARD, lease) as held:
                pass
            await store.client.set(lock, "thief")  # the lease ran out and another took it
            await store.append(stranger, held)
        assert await store.client.get(lock) == b"thief"  # left alone
        assert [t.id for t in await store.turns(AWKWARD)][-1] == stranger.id
        await store.delete_conversation(AWKWARD)
        await store.client.delete(lock)


async def test_the_lock_brings_the_latest_checkpoint_for_the_turns_first_read(
    redis_url: str, redis_prefix: str
) -> None:
    async with RedisStore.open(redis_url, prefix=redis_prefix) as store:
        saver = store.checkpointer
        config = {"configurable": {"thread_id": AWKWARD, "checkpoint_ns": ""}}
        first = await saver.aput(config, empty_checkpoint(), {"step": 1}, {})
        await saver.aput_writes(first, [("channel", "value")], "task-1")
        async with store.lock(AWKWARD) as lease:
            assert lease.read and lease.latest is not None and lease.latest.config == first
            later = await saver.aput(first, empty_checkpoint(), {"step": 2}, {})  # not held
            with store.holding(AWKWARD, lease):
                assert await saver.aget_tuple(first) == await saver.aget_tuple(first)
                served = await saver.aget_tuple(config)  # the one read with the lock ...
                assert served == lease.latest and not lease.read
                assert served is not None and served.pending_writes == [
                    ("task-1", "channel", "value")]
                again = await saver.aget_tuple(config)  # ... once; then the store's
                assert again is not None and again.config == later
        async with store.lock("api:new") as empty:
            assert empty.read and empty.latest is None
        await store.delete_conversation(AWKWARD)
