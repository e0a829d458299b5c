"""The customer-service window of messaging platforms: a business may write freely to a
number only within 24 hours of that number's last message (WhatsApp's rule); after that,
only an approved template may go out.

The time of each conversation's last inbound message is kept in the store (every worker
process sees it), expiring with the window itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from parley_bot.agents.shared import SharedState

WINDOW_S = 24 * 3600


class SessionWindow:
    """When each conversation last heard from its user, and so whether it may be written to."""

    def __init__(self, store: SharedState, seconds: float = WINDOW_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._seconds = seconds
        self._clock = clock

    async def heard(self, key: str, at: float | None = None) -> None:
        """Record a message from conversation `key`'s user, now or at `at` (epoch seconds)."""
        at = self._clock() if at is None else at
        left = self._seconds - (self._clock() - at)
        if left > 0:
            await self._store.put(_key(key), repr(at), left)
        else:
            await self._store.delete(_key(key))

    async def is_open(self, key: str) -> bool:
        """Whether free text may still be sent to conversation `key`."""
        last = await self._store.get(_key(key))
        return last is not None and self._clock() - float(last) < self._seconds


def _key(conversation: str) -> str:
    return f"window:{conversation}"
