"""Where everything parley's workers share lives: `open_store(config)` picks the backend.

    memory.url in flows.yaml   'sqlite:PATH', 'redis://…', 'rediss://…' or 'memory:'
    else REDIS_URL             from the environment (`Settings`)
    else                       sqlite:.parley/memory.sqlite beside flows.yaml
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.settings import Settings
from parley_bot.agents.store.base import Store

DEFAULT_URL = "sqlite:.parley/memory.sqlite"


def store_url(config: FlowsConfig, settings: Settings | None = None) -> str:
    """The store this bot uses: flows.yaml's `memory.url`, else `REDIS_URL`, else SQLite."""
    if config.memory.url is not None:
        return config.memory.url
    redis_url = (settings or Settings()).redis_url
    return redis_url or DEFAULT_URL


@asynccontextmanager
async def open_store(
    config: FlowsConfig, settings: Settings | None = None
) -> AsyncIterator[Store]:
    """Open the bot's store for the life of the block.

    Args:
        config: the validated flows.yaml (`memory:`); relative SQLite paths start at its folder.
        settings: the environment; read afresh when not given.
    """
    url = store_url(config, settings)
    if url == "memory:":
        from parley_bot.agents.store.memory import MemoryStore

        yield MemoryStore()
    elif url.startswith(("redis://", "rediss://")):
        from parley_bot.agents.store.redis import RedisStore

        days = config.memory.ttl_days
        async with RedisStore.open(url, ttl_s=None if days is None else days * 86400) as store:
            yield store
    else:
        from parley_bot.agents.store.sqlite import SqliteStore

        async with SqliteStore.open(config.path(Path(url.removeprefix("sqlite:")))) as store:
            yield store


__all__ = ["DEFAULT_URL", "Store", "open_store", "store_url"]
