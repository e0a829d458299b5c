"""The Redis store: Redis, Valkey, a managed Redis or a Redis Cluster shared by every worker.

Core data types and Lua only (no modules). A conversation's keys share one hash tag, so in a
cluster they live in one slot and each script below touches them atomically:

    {prefix}:{<conversation>}:turns       list   turn JSON, oldest first
    {prefix}:{<conversation>}:turn_ids    hash   turn id → its index in `turns`
    {prefix}:{<conversation>}:feedback    hash   turn id → feedback JSON
    {prefix}:{<conversation>}:claims      zset   event id → expiry (server ms)
    {prefix}:{<conversation>}:lock        string the holder's token, expiring with its lease
    {prefix}:shared:<key>                 string `SharedState` values and counters

Expiry is always the server's clock, so workers with drifting clocks still agree. With a
TTL, every turn renews all of a conversation's keys (the checkpointer renews its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import redis.asyncio as aioredis
import redis.exceptions as rex
from redis import Redis as SyncRedis
from redis.cluster import RedisCluster as SyncRedisCluster

from parley_bot.agents.errors import StoreUnavailable
from parley_bot.agents.store.base import HeldWrites, HoldsTurnWrites, Lease, Store, serializer
from parley_bot.agents.store.redis_saver import LATEST_LUA, RedisSaver, thread_key
from parley_bot.channels.messages import Feedback, Turn

CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 5.0

# A turn with its held checkpoint writes, in one step, giving up the turn's lock. KEYS: the
# checkpointer's checkpoints, order and writes, then turns, turn_ids, feedback, claims, lock.
# ARGV: TTL ('' for none), turn JSON, turn id, the lock's token ('' to keep it), the number of
# checkpoints then (member, record) each, the number of writes then (field, record, '1' to
# replace) each.
_APPEND = """
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], 0, ARGV[i])
  i = i + 2
end
local writes = tonumber(ARGV[i])
i = i + 1
for _ = 1, writes do
  if ARGV[i + 2] == '1' then redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  else redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) end
  i = i + 3
end
local n = redis.call('RPUSH', KEYS[4], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[3], n - 1)
if ARGV[1] ~= '' then
  for k = 1, #KEYS - 1 do redis.call('EXPIRE', KEYS[k], ARGV[1]) end
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[#KEYS]) == ARGV[4] then
  redis.call('DEL', KEYS[#KEYS])
end
return n
"""
_PAGE = """
local last
if ARGV[1] ~= '' then
  local index = redis.call('HGET', KEYS[2], ARGV[1])
  if not index then return {{}, {}} end
  last = tonumber(index) - 1
else
  last = redis.call('LLEN', KEYS[1]) - 1
end
local limit = tonumber(ARGV[2])
if last < 0 or limit == 0 then return {{}, {}} end
local first = 0
if limit > 0 then first = math.max(0, last - limit + 1) end
return {redis.call('LRANGE', KEYS[1], first, last), redis.call('HGETALL', KEYS[3])}
"""
_FEEDBACK = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""
_ACQUIRE_LUA = """
local function ACQUIRE(key, token, ms)
  if redis.call('GET', key) == token then return redis.call('PEXPIRE', key, ms) end
  if redis.call('SET', key, token, 'NX', 'PX', ms) then return 1 end
  return 0
end
"""
_ACQUIRE = _ACQUIRE_LUA + "return ACQUIRE(KEYS[1], ARGV[1], ARGV[2])"
# The lock taken (KEYS[4], ARGV token and lease ms) with the latest checkpoint of the root
# namespace (KEYS[1..3] the checkpointer's): {1, LATEST} or {1} without one, {0} if busy.
_TAKE = LATEST_LUA + _ACQUIRE_LUA + """
if ACQUIRE(KEYS[4], ARGV[1], ARGV[2]) == 0 then return {0} end
local latest = LATEST(KEYS[1], KEYS[2], KEYS[3], '', '')
if latest then return {1, latest} end
return {1}
"""
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""
_CLAIM = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
"""
# Counters: each key incremented, a new one expiring ARGV[1] ms later; the counts.
_INCR = """
local counts = {}
for k = 1, #KEYS do
  counts[k] = redis.call('INCR', KEYS[k])
  if counts[k] == 1 then redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
end
return counts
"""

_RECORDS = ("turns", "turn_ids", "feedback", "claims")
_APPENDED = (*_RECORDS, "lock")


class StoreSaver(HoldsTurnWrites, RedisSaver):
    """The store's checkpointer: a `RedisSaver` whose turn writes `append` stores."""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisStore(Store):
    """The contract on one Redis (or cluster) shared by every worker process."""

    unavailable: ClassVar[tuple[type[Exception], ...]] = (
        StoreUnavailable, rex.ConnectionError, rex.TimeoutError, rex.ClusterError,
        rex.ReadOnlyError, rex.OutOfMemoryError, rex.TryAgainError, rex.RedisClusterException,
    )

    checkpointer: StoreSaver

    def __init__(self, client: Any, saver: StoreSaver, *, ttl_s: float | None = None,
                 prefix: str = "parley") -> None:
        self.checkpointer = saver
        self.client = client
        self.ttl_s = ttl_s
        self.prefix = prefix
        self._scripts = {name: client.register_script(lua) for name, lua in (
            ("append", _APPEND), ("page", _PAGE), ("feedback", _FEEDBACK),
            ("acquire", _ACQUIRE), ("take", _TAKE), ("renew", _RENEW), ("release", _RELEASE),
            ("claim", _CLAIM), ("incr", _INCR))}

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, *, ttl_s: float | None = None,
                   prefix: str = "parley") -> AsyncIterator[RedisStore]:
        """Connect to `url` (redis:// or rediss://) for the life of the block; a Redis
        Cluster is recognized by asking the server."""
        options: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT_S,
                                   "socket_timeout": COMMAND_TIMEOUT_S}
        client: Any = aioredis.Redis.from_url(url, **options)
        sync: Any = None
        try:
            if (await client.info("cluster")).get("cluster_enabled"):
                await client.aclose()
                client = aioredis.RedisCluster.from_url(url, **options)
                await client.initialize()
                sync = SyncRedisCluster.from_url(url, **options)
            else:
                sync = SyncRedis.from_url(url, **options)
            saver = StoreSaver(client, sync_client=sync, ttl_s=ttl_s, prefix=prefix,
                               serde=serializer())
            yield cls(client, saver, ttl_s=ttl_s, prefix=prefix)
        finally:
            await client.aclose()
            if sync is not None:
                sync.close()

    def _key(self, conversation: str, part: str) -> str:
        return thread_key(self.prefix, conversation, part)

    def _shared(self, key: str) -> str:
        return f"{self.prefix}:shared:{key}"

    async def _run(self, script: str, keys: list[str], *args: Any) -> Any:
        return await self._scripts[script](keys=keys, args=list(args))

    async def append(self, turn: Turn, held: HeldWrites | None = None) -> int:
        saver = self.checkpointer
        keys = [*saver.keys(turn.key), *(self._key(turn.key, part) for part in _APPENDED)]
        lease = held.lease if held else None
        if lease and lease.conversation != turn.key:
            lease = None
        checkpoints = [saver.checkpoint_entry(config, checkpoint, metadata)
                       for config, checkpoint, metadata, _ in (held.puts if held else ())]
        writes = [entry for config, pending, task, path in (held.writes if held else ())
                  for entry in saver.write_entries(config, pending, task, path)]
        ttl = "" if self.ttl_s is None else max(1, round(self.ttl_s))
        count = int(await self._run(
            "append", keys, ttl, turn.model_dump_json(exclude={"feedback"}), turn.id,
            lease.token if lease else "",
            len(checkpoints), *(part for entry in checkpoints for part in entry),
            len(writes), *(part for field, record, replace in writes
                           for part in (field, record, "1" if replace else "0"))))
        if lease:
            lease.released = True
        return count

    async def turns(
        self, conversation: str, *, limit: int | None = None, before: str | None = None
    ) -> list[Turn]:
        keys = [self._key(conversation, part) for part in ("turns", "turn_ids", "feedback")]
        rows, flat = await self._run("page", keys, before or "", -1 if limit is None else limit)
        feedback = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
        turns = [Turn.model_validate_json(row) for row in rows]
        return [t.model_copy(update={"feedback": Feedback.model_validate_json(feedback[t.id])})
                if t.id in feedback else t for t in turns]

    async def feedback(self, conversation: str, turn_id: str, feedback: Feedback) -> bool:
        keys = [self._key(conversation, part) for part in ("turn_ids", "feedback")]
        return bool(await self._run("feedback", keys, turn_id, feedback.model_dump_json()))

    async def acquire(self, conversation: str, token: str, lease_s: float) -> bool:
        return bool(await self._run("acquire", [self._key(conversation, "lock")], token,
                                    _ms(lease_s)))

    async def take(self, lease: Lease, lease_s: float) -> bool:
        conversation = lease.conversation
        keys = [*self.checkpointer.keys(conversation), self._key(conversation, "lock")]
        taken, *latest = await self._run("take", keys, lease.token, _ms(lease_s))
        if taken:
            lease.read = True
            lease.latest = self.checkpointer.tuple_of(conversation, latest[0] if latest else None)
        return bool(taken)

    async def renew(self, conversation: str, token: str, lease_s: float) -> bool:
        return bool(await self._run("renew", [self._key(conversation, "lock")], token,
                                    _ms(lease_s)))

    async def release(self, conversation: str, token: str) -> None:
        await self._run("release", [self._key(conversation, "lock")], token)

    async def claim(self, conversation: str, event_id: str, ttl_s: float) -> bool:
        return bool(await self._run("claim", [self._key(conversation, "claims")], event_id,
                                    _ms(ttl_s)))

    async def incr(self, key: str, ttl_s: float) -> int:
        return (await self._count([key], ttl_s))[0]

    async def _count(self, keys: Sequence[str], ttl_s: float) -> list[int]:
        if len(keys) > 1 and isinstance(self.client, aioredis.RedisCluster):
            return await super()._count(keys, ttl_s)  # the keys are in different slots
        counts = await self._run("incr", [self._shared(key) for key in keys], _ms(ttl_s))
        return [int(count) for count in counts]

    async def get(self, key: str) -> str | None:
        value = await self.client.get(self._shared(key))
        return None if value is None else bytes(value).decode()

    async def put(self, key: str, value: str, ttl_s: float, *, only_new: bool = False) -> bool:
        return bool(await self.client.set(self._shared(key), value, px=_ms(ttl_s), nx=only_new))

    async def delete(self, key: str) -> None:
        await self.client.delete(self._shared(key))

    async def _delete_records(self, conversation: str) -> None:
        await self.client.delete(*(self._key(conversation, part) for part in _RECORDS))
