"""Stores under test: one fixture per backend, each on a real server or file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley_bot.agents.store.base import Store
from tests.utils.stores import opened

BACKENDS = ["memory", "sqlite", "redis"]
SHARED = ["sqlite", "redis"]  # the backends several processes can share


def store_location(backend: str, tmp_path: Path, redis_url: str) -> str:
    """Where a backend's store is: what a second process needs to open the same one."""
    return str(tmp_path / "store.sqlite") if backend == "sqlite" else redis_url


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, redis_prefix: str
) -> AsyncIterator[Store]:
    location = store_location(request.param, tmp_path, redis_url)
    async with opened(request.param, location, redis_prefix) as opened_store:
        yield opened_store
