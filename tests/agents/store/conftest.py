"""Stores under test: one fixture per backend, each on a real server or file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley_bot.agents.store.base import Store
from tests.utils.stores import opened

BACKENDS = ["memory", "sqlite", "redis", "redis-cluster"]
SHARED = ["sqlite", "redis"]  # the backends several processes can share


def store_location(backend: str, tmp_path: Path, redis_url: str) -> str:
    """Where a backend's store is: what a second process needs to open the same one."""
    return str(tmp_path / "store.sqlite") if backend == "sqlite" else redis_url


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str
) -> AsyncIterator[Store]:
    backend = str(request.param)
    url = request.getfixturevalue("redis_cluster_url" if backend == "redis-cluster"
                                  else "redis_url") if backend.startswith("redis") else ""
    async with opened(backend.removesuffix("-cluster"),
                      store_location(backend, tmp_path, url), redis_prefix) as opened_store:
        yield opened_store
