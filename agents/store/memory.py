"""The in-memory store: one process, gone when it ends (tests, benchmarks, `memory:`)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from langgraph.checkpoint.memory import InMemorySaver

from parley_bot.agents.shared import InMemoryShared
from parley_bot.agents.store.base import HeldWrites, HoldsTurnWrites, Store, serializer
from parley_bot.channels.messages import Feedback, Turn


class PrunedInMemorySaver(HoldsTurnWrites, InMemorySaver):
    """`InMemorySaver` with `aprune`, which it leaves unimplemented."""

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only each thread's latest checkpoint per namespace ("keep_latest"), with its
        writes and the channel values it uses; or nothing ("delete")."""
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"unknown prune strategy {strategy!r}")
        for thread_id in thread_ids:
            if strategy == "delete" or thread_id not in self.storage:
                self.delete_thread(thread_id)
                continue
            kept: set[tuple[str, str, str | int | float]] = set()
            for ns, checkpoints in self.storage[thread_id].items():
                if not checkpoints:
                    continue
                latest = max(checkpoints)
                for checkpoint_id in [c for c in checkpoints if c != latest]:
                    del checkpoints[checkpoint_id]
                    self.writes.pop((thread_id, ns, checkpoint_id), None)
                versions = self.serde.loads_typed(checkpoints[latest][0])["channel_versions"]
                kept.update((ns, channel, version) for channel, version in versions.items())
            for blob in [b for b in self.blobs if b[0] == thread_id and b[1:] not in kept]:
                del self.blobs[blob]


class MemoryStore(Store):
    """Every part of the contract in dicts of this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.checkpointer = PrunedInMemorySaver(serde=serializer())
        self._clock = clock
        self._shared = InMemoryShared(clock)
        self._turns: dict[str, list[Turn]] = defaultdict(list)
        self._locks: dict[str, tuple[str, float]] = {}
        self._claims: dict[str, dict[str, float]] = defaultdict(dict)

    async def append(self, turn: Turn, held: HeldWrites | None = None) -> int:
        for put in held.puts if held else ():  # the sync methods never hold writes back
            self.checkpointer.put(*put)
        for write in held.writes if held else ():
            self.checkpointer.put_writes(*write)
        self._turns[turn.key].append(turn)
        return len(self._turns[turn.key])

    async def turns(
        self, conversation: str, *, limit: int | None = None, before: str | None = None
    ) -> list[Turn]:
        turns = self._turns.get(conversation, [])
        if before is not None:
            turns = turns[:next((i for i, t in enumerate(turns) if t.id == before), 0)]
        return turns[max(0, len(turns) - limit) if limit is not None else 0:]

    async def feedback(self, conversation: str, turn_id: str, feedback: Feedback) -> bool:
        turns = self._turns.get(conversation, [])
        for i, turn in enumerate(turns):
            if turn.id == turn_id:
                turns[i] = turn.model_copy(update={"feedback": feedback})
                return True
        return False

    async def acquire(self, conversation: str, token: str, lease_s: float) -> bool:
        holder = self._locks.get(conversation)
        if holder is not None and holder[0] != token and holder[1] > self._clock():
            return False
        self._locks[conversation] = (token, self._clock() + lease_s)
        return True

    async def renew(self, conversation: str, token: str, lease_s: float) -> bool:
        holder = self._locks.get(conversation)
        if holder is None or holder[0] != token:
            return False
        self._locks[conversation] = (token, self._clock() + lease_s)
        return True

    async def release(self, conversation: str, token: str) -> None:
        if self._locks.get(conversation, ("", 0.0))[0] == token:
            del self._locks[conversation]

    async def claim(self, conversation: str, event_id: str, ttl_s: float) -> bool:
        claims, now = self._claims[conversation], self._clock()
        if claims.get(event_id, 0.0) > now:
            return False
        claims[event_id] = now + ttl_s
        return True

    async def incr(self, key: str, ttl_s: float) -> int:
        return await self._shared.incr(key, ttl_s)

    async def get(self, key: str) -> str | None:
        return await self._shared.get(key)

    async def put(self, key: str, value: str, ttl_s: float, *, only_new: bool = False) -> bool:
        return await self._shared.put(key, value, ttl_s, only_new=only_new)

    async def delete(self, key: str) -> None:
        await self._shared.delete(key)

    async def _delete_records(self, conversation: str) -> None:
        self._turns.pop(conversation, None)
        self._claims.pop(conversation, None)
