"""Small shared state with expiry: what several worker processes must agree on beyond the
conversation itself (a model's circuit breaker, event claims, counters).

`SharedState` is the part of parley's storage contract that features use for their own
keys; every store backend (in-memory, SQLite, Redis) implements it, atomically across the
processes that share the store. `InMemoryShared` is the one-process implementation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class SharedState(Protocol):
    """Keys with values or counters that expire; every operation is atomic."""

    async def incr(self, key: str, ttl_s: float) -> int:
        """Add one to the counter at `key` and return its new value. A counter that did not
        exist starts at 1 and expires `ttl_s` seconds later (further increments keep that
        expiry, so the count is per window)."""
        ...

    async def get(self, key: str) -> str | None:
        """The value at `key`, or None if it is unset or expired."""
        ...

    async def put(self, key: str, value: str, ttl_s: float, *, only_new: bool = False) -> bool:
        """Set `key` to `value` for `ttl_s` seconds.

        Args:
            only_new: set it only if `key` is unset or expired (a claim).

        Returns:
            Whether the value was written.
        """
        ...

    async def delete(self, key: str) -> None:
        """Unset `key` (a value or a counter); unknown keys are ignored."""
        ...


class InMemoryShared:
    """`SharedState` for one process: tests, benchmarks and the `memory:` store."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._items[key]
            return None
        return item[0]

    async def incr(self, key: str, ttl_s: float) -> int:
        current = self._live(key)
        if current is None:
            self._items[key] = ("1", self._clock() + ttl_s)
            return 1
        value = int(current) + 1
        self._items[key] = (str(value), self._items[key][1])
        return value

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def put(self, key: str, value: str, ttl_s: float, *, only_new: bool = False) -> bool:
        if only_new and self._live(key) is not None:
            return False
        self._items[key] = (value, self._clock() + ttl_s)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)
