"""LangGraph's own checkpointer spec suite, against parley's Redis and SQLite savers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.report import CapabilityReport

from parley_bot.agents.store.redis import RedisStore
from parley_bot.agents.store.sqlite import SqliteStore
from tests.utils.redis_server import redis_cluster

EXPECTED = {"put", "put_writes", "get_tuple", "list", "delete_thread", "prune"}


def check(report: CapabilityReport) -> None:
    report.print_report()
    failures = {name: r.failures for name, r in report.results.items() if r.failures}
    assert failures == {}
    assert {name for name, r in report.results.items() if r.passed} == EXPECTED


async def test_sqlite_saver_conforms(tmp_path: Path) -> None:
    @checkpointer_test(name="parley SQLite")
    async def saver() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with SqliteStore.open(tmp_path / "conformance.sqlite") as store:
            yield store.checkpointer

    check(await validate(saver))


async def test_redis_saver_conforms(redis_url: str, redis_prefix: str) -> None:
    @checkpointer_test(name="parley Redis")
    async def saver() -> AsyncIterator[BaseCheckpointSaver[str]]:
        async with RedisStore.open(redis_url, prefix=redis_prefix) as store:
            yield store.checkpointer

    check(await validate(saver))


async def test_redis_saver_conforms_on_a_cluster_with_a_ttl(tmp_path: Path) -> None:
    with redis_cluster(tmp_path) as nodes:
        @checkpointer_test(name="parley Redis Cluster")
        async def saver() -> AsyncIterator[BaseCheckpointSaver[str]]:
            async with RedisStore.open(nodes[0].url, ttl_s=3600) as store:
                yield store.checkpointer

        check(await validate(saver))
