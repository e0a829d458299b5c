"""Knowledge stores for tests."""

from __future__ import annotations

from parley_bot.knowledge.types import Passage


class BrokenStore:
    """A knowledge store whose backend is down."""

    def search(self, query: str, k: int, sources: frozenset[str] | None = None) -> list[Passage]:
        raise ConnectionError("vector database unreachable")
