"""Open any store backend by name, in a test or in a helper process of one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from parley_bot.agents.errors import StoreUnavailable
from parley_bot.agents.store.base import HeldWrites, Store
from parley_bot.agents.store.memory import MemoryStore
from parley_bot.agents.store.redis import RedisStore
from parley_bot.agents.store.sqlite import SqliteStore
from parley_bot.channels.messages import Turn


@asynccontextmanager
async def opened(backend: str, location: str, prefix: str = "parley") -> AsyncIterator[Store]:
    """`backend` 'memory', 'sqlite' (`location` is the file) or 'redis' (`location` is the
    URL, `prefix` keeps tests sharing one server apart)."""
    if backend == "memory":
        yield MemoryStore()
    elif backend == "sqlite":
        async with SqliteStore.open(Path(location)) as store:
            yield store
    else:
        async with RedisStore.open(location, prefix=prefix) as redis_store:
            yield redis_store


class FailingRecords(MemoryStore):
    """A store that goes down when a turn has run, as it is recorded."""

    failures = 0

    async def append(self, turn: Turn, held: HeldWrites | None = None) -> int:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("the store went away")
        return await super().append(turn, held)


class FailingWrites(MemoryStore):
    """A store whose shared values cannot be written while `down`."""

    down = False

    async def put(self, key: str, value: str, ttl_s: float, *, only_new: bool = False) -> bool:
        if self.down:
            raise StoreUnavailable("the store went away")
        return await super().put(key, value, ttl_s, only_new=only_new)
