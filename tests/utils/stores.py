"""Open any store backend by name, in a test or in a helper process of one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from parley_bot.agents.store.base import Store
from parley_bot.agents.store.memory import MemoryStore
from parley_bot.agents.store.redis import RedisStore
from parley_bot.agents.store.sqlite import SqliteStore


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
