"""A LangGraph checkpointer on Redis core data types: no RedisJSON or RediSearch needed, so it
runs on Debian's Redis 7, Valkey, managed Redis services and Redis Cluster.

Why not langgraph-checkpoint-redis: it needs the RedisJSON and RediSearch modules, which
those servers lack.

Each conversation (`thread_id`) has three keys, all with the same hash tag, so a Redis
Cluster keeps them in one slot and a transaction or script may touch them together:

    {prefix}:{<thread>}:checkpoints   hash   '<ns>\\0<checkpoint id>' → checkpoint record
    {prefix}:{<thread>}:order         zset   the same members, score 0: ordered by name,
                                             so each namespace's latest is one range query
    {prefix}:{<thread>}:writes        hash   '<ns>\\0<checkpoint id>\\0<task>\\0<idx>' → write

Every write renews the TTL of all three (when one is set), so no key of a live conversation
expires on its own; `aprune` keeps storage per conversation bounded. Reads of one checkpoint
are one script call; writes are one MULTI/EXEC. The sync methods are the same calls on a
sync client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

SEP = "\0"

# LATEST(checkpoints, order, writes, ns, id): the latest checkpoint of a namespace (or the
# one asked for, id ~= '') with its writes, as {member, record, writes}; false if none.
LATEST_LUA = """
local function LATEST(checkpoints, order, writes_key, ns, id)
  local member = id
  if member == '' then
    member = redis.call('ZREVRANGEBYLEX', order, '(' .. ns .. '\\1', '[' .. ns .. '\\0',
                        'LIMIT', 0, 1)[1]
    if not member then return false end
  else
    member = ns .. '\\0' .. member
  end
  local record = redis.call('HGET', checkpoints, member)
  if not record then return false end
  local prefix = member .. '\\0'
  local writes = {}
  local all = redis.call('HGETALL', writes_key)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, #prefix) == prefix then
      writes[#writes + 1] = all[i]
      writes[#writes + 1] = all[i + 1]
    end
  end
  return {member, record, writes}
end
"""
_GET = LATEST_LUA + "return LATEST(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])"


def tag(thread_id: str) -> str:
    """The thread id as a hash tag's content: '{' and '}' escaped, so a tag always ends
    where the id does and two ids never share keys."""
    return thread_id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")


def thread_key(prefix: str, thread_id: str, part: str) -> str:
    """The key of one part of a conversation; every part of it hashes to the same slot."""
    return f"{prefix}:{{{tag(thread_id)}}}:{part}"


def _pack(header: dict[str, Any], payload: bytes) -> bytes:
    return json.dumps(header, ensure_ascii=False).encode() + b"\n" + payload


def _unpack(record: bytes) -> tuple[dict[str, Any], bytes]:
    header, _, payload = record.partition(b"\n")
    return json.loads(header), payload


class RedisSaver(BaseCheckpointSaver[str]):
    """Checkpoints in Redis, per conversation, with an optional TTL renewed on each write."""

    def __init__(
        self,
        client: Any,
        *,
        sync_client: Any | None = None,
        ttl_s: float | None = None,
        prefix: str = "parley",
        serde: SerializerProtocol | None = None,
    ) -> None:
        """
        Args:
            client: a `redis.asyncio.Redis` or `RedisCluster` (decode_responses=False).
            sync_client: its sync twin, for `invoke`/`get_state`; without one the sync
                methods raise.
            ttl_s: forget a conversation this long after its last write; None keeps it.
            prefix: the first part of every key.
            serde: the serializer of checkpoints and writes.
        """
        super().__init__(serde=serde)
        self.client = client
        self.sync_client = sync_client
        self.ttl_s = ttl_s
        self.prefix = prefix
        self._get_script = client.register_script(_GET)
        self._get_script_sync = sync_client.register_script(_GET) if sync_client else None

    def keys(self, thread_id: str) -> tuple[str, str, str]:
        """The conversation's checkpoints, order and writes keys."""
        return (thread_key(self.prefix, thread_id, "checkpoints"),
                thread_key(self.prefix, thread_id, "order"),
                thread_key(self.prefix, thread_id, "writes"))

    def _sync(self) -> Any:
        if self.sync_client is None:
            raise RuntimeError("this RedisSaver has no sync client: use the async methods "
                               "(ainvoke, astream, aget_state) or pass sync_client=")
        return self.sync_client

    # -- get ---------------------------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id, ns, checkpoint_id = _target(config)
        raw = await self._get_script(keys=self.keys(thread_id), args=[ns, checkpoint_id or ""])
        return self.tuple_of(thread_id, raw)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        self._sync()
        assert self._get_script_sync is not None
        thread_id, ns, checkpoint_id = _target(config)
        raw = self._get_script_sync(keys=self.keys(thread_id), args=[ns, checkpoint_id or ""])
        return self.tuple_of(thread_id, raw)

    def tuple_of(self, thread_id: str, raw: Sequence[Any] | None) -> CheckpointTuple | None:
        """The checkpoint tuple of what `LATEST_LUA` returned."""
        if not raw:
            return None
        member, record, flat = raw
        writes = {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
        return self._load(thread_id, member, record, writes)

    def _load(
        self, thread_id: str, member: bytes, record: bytes, writes: dict[bytes, bytes]
    ) -> CheckpointTuple:
        ns, checkpoint_id = member.decode().split(SEP)
        header, payload = _unpack(record)
        pending = []
        for field, value in writes.items():
            _, _, task_id, idx = field.decode().split(SEP)
            write, data = _unpack(value)
            pending.append((writes_sort_key(write["path"], task_id, int(idx)),
                            (task_id, write["channel"],
                             self.serde.loads_typed((write["type"], data)))))
        parent = header["parent"]
        return CheckpointTuple(
            config=_config(thread_id, ns, checkpoint_id),
            checkpoint=self.serde.loads_typed((header["type"], payload)),
            metadata=header["metadata"],
            parent_config=_config(thread_id, ns, parent) if parent else None,
            pending_writes=[write for _, write in sorted(pending, key=lambda p: p[0])],
        )

    # -- list --------------------------------------------------------------------------------

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        thread_id = _thread(config)
        raw = await self._snapshot(self.client.pipeline(transaction=True), thread_id)
        for item in self._matches(thread_id, raw, config, filter, before, limit):
            yield item

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        thread_id = _thread(config)
        raw = self._snapshot(self._sync().pipeline(transaction=True), thread_id)
        yield from self._matches(thread_id, raw, config, filter, before, limit)

    def _snapshot(self, pipe: Any, thread_id: str) -> Any:
        """Everything of one conversation, read in one transaction (`execute` is awaitable
        on an async client's pipeline)."""
        checkpoints, order, writes = self.keys(thread_id)
        pipe.zrevrange(order, 0, -1)
        pipe.hgetall(checkpoints)
        pipe.hgetall(writes)
        return pipe.execute()

    def _matches(
        self,
        thread_id: str,
        raw: Sequence[Any],
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Iterator[CheckpointTuple]:
        members, records, writes = raw
        wanted_ns = config["configurable"].get("checkpoint_ns") if config else None
        wanted_id = get_checkpoint_id(config) if config else None
        before_id = get_checkpoint_id(before) if before else None
        for member in members:
            ns, checkpoint_id = member.decode().split(SEP)
            if ((wanted_ns is not None and ns != wanted_ns)
                    or (wanted_id and checkpoint_id != wanted_id)
                    or (before_id and checkpoint_id >= before_id)
                    or member not in records):
                continue
            header, _ = _unpack(records[member])
            if filter and any(header["metadata"].get(k) != v for k, v in filter.items()):
                continue
            if limit is not None and limit <= 0:
                return
            if limit is not None:
                limit -= 1
            prefix = member + SEP.encode()
            mine = {f: v for f, v in writes.items() if f.startswith(prefix)}
            yield self._load(thread_id, member, records[member], mine)

    # -- put ---------------------------------------------------------------------------------

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        pipe = self.client.pipeline(transaction=True)
        stored = self._put(pipe, config, checkpoint, metadata)
        await pipe.execute()
        return stored

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        pipe = self._sync().pipeline(transaction=True)
        stored = self._put(pipe, config, checkpoint, metadata)
        pipe.execute()
        return stored

    def _put(
        self, pipe: Any, config: RunnableConfig, checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
    ) -> RunnableConfig:
        thread_id, ns, _ = _target(config)
        member, record = self.checkpoint_entry(config, checkpoint, metadata)
        checkpoints, order, _ = self.keys(thread_id)
        pipe.hset(checkpoints, member, record)
        pipe.zadd(order, {member: 0})
        self._renew(pipe, thread_id)
        return _config(thread_id, ns, checkpoint["id"])

    def checkpoint_entry(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> tuple[str, bytes]:
        """The member of `order` and `checkpoints` and the record that store a checkpoint."""
        _, ns, parent = _target(config)
        type_, payload = self.serde.dumps_typed(checkpoint)
        header = {"type": type_, "parent": parent,
                  "metadata": get_checkpoint_metadata(config, metadata)}
        return f"{ns}{SEP}{checkpoint['id']}", _pack(header, payload)

    def write_entries(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
        task_path: str,
    ) -> Sequence[tuple[str, bytes, bool]]:
        """The fields of `writes` that store a task's writes, their records, and whether a
        record replaces one already there (special writes such as errors do; a task's
        regular writes are stored once)."""
        _, ns, checkpoint_id = _target(config)
        entries = []
        for i, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, i)
            type_, payload = self.serde.dumps_typed(value)
            field = SEP.join((ns, str(checkpoint_id), task_id, str(idx)))
            record = _pack({"channel": channel, "type": type_, "path": task_path}, payload)
            entries.append((field, record, idx < 0))
        return entries

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        pipe = self.client.pipeline(transaction=True)
        self._put_writes(pipe, config, writes, task_id, task_path)
        await pipe.execute()

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        pipe = self._sync().pipeline(transaction=True)
        self._put_writes(pipe, config, writes, task_id, task_path)
        pipe.execute()

    def _put_writes(
        self, pipe: Any, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
        task_id: str, task_path: str,
    ) -> None:
        thread_id = _target(config)[0]
        key = self.keys(thread_id)[2]
        for field, record, replace in self.write_entries(config, writes, task_id, task_path):
            (pipe.hset if replace else pipe.hsetnx)(key, field, record)
        self._renew(pipe, thread_id)

    def _renew(self, pipe: Any, thread_id: str) -> None:
        if self.ttl_s is not None:
            for key in self.keys(thread_id):
                pipe.expire(key, max(1, round(self.ttl_s)))

    # -- delete and prune --------------------------------------------------------------------

    async def adelete_thread(self, thread_id: str) -> None:
        await self.client.delete(*self.keys(thread_id))

    def delete_thread(self, thread_id: str) -> None:
        self._sync().delete(*self.keys(thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only each thread's latest checkpoint per namespace, with its writes
        ("keep_latest"), or nothing ("delete"). A checkpoint added meanwhile is kept."""
        for thread_id in _strategy(thread_ids, strategy):
            if strategy == "delete":
                await self.adelete_thread(thread_id)
                continue
            raw = await self._names(self.client.pipeline(transaction=True), thread_id)
            pipe = self.client.pipeline(transaction=True)
            if self._drop_superseded(pipe, thread_id, raw):
                await pipe.execute()

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        for thread_id in _strategy(thread_ids, strategy):
            if strategy == "delete":
                self.delete_thread(thread_id)
                continue
            raw = self._names(self._sync().pipeline(transaction=True), thread_id)
            pipe = self._sync().pipeline(transaction=True)
            if self._drop_superseded(pipe, thread_id, raw):
                pipe.execute()

    def _names(self, pipe: Any, thread_id: str) -> Any:
        """The checkpoint members, newest first, and write fields of one conversation."""
        _, order, writes = self.keys(thread_id)
        pipe.zrevrange(order, 0, -1)
        pipe.hkeys(writes)
        return pipe.execute()

    def _drop_superseded(self, pipe: Any, thread_id: str, raw: Sequence[Any]) -> bool:
        members, writes = raw
        latest: set[bytes] = set()  # namespaces whose latest checkpoint was seen
        drop = []
        for member in members:
            ns = member.split(SEP.encode())[0]
            if ns in latest:
                drop.append(member)
            latest.add(ns)
        if not drop:
            return False
        checkpoints, order, writes_key = self.keys(thread_id)
        pipe.hdel(checkpoints, *drop)
        pipe.zrem(order, *drop)
        dropped = tuple(m + SEP.encode() for m in drop)
        if stale := [f for f in writes if f.startswith(dropped)]:
            pipe.hdel(writes_key, *stale)
        return True


def _strategy(thread_ids: Sequence[str], strategy: str) -> Sequence[str]:
    if strategy not in ("keep_latest", "delete"):
        raise ValueError(f"unknown prune strategy {strategy!r}")
    return thread_ids


def _thread(config: RunnableConfig | None) -> str:
    if config is None or "thread_id" not in config.get("configurable", {}):
        raise ValueError("RedisSaver lists one conversation at a time: give a thread_id")
    return str(config["configurable"]["thread_id"])


def _target(config: RunnableConfig) -> tuple[str, str, str | None]:
    configurable = config["configurable"]
    return (str(configurable["thread_id"]), configurable.get("checkpoint_ns", ""),
            get_checkpoint_id(config))


def _config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns,
                             "checkpoint_id": checkpoint_id}}
