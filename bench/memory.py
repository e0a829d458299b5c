"""Turn latency and throughput of parley's turn graph over each store, beside stock savers.

parley_sqlite, parley_redis: `Bot.handle`, i.e. the turn graph plus everything a store does
for several workers: the conversation's lock, rate limits (lifted here: a conversation sends
200 messages as fast as it can), the transcript, pruning every 16th turn.
stock_inmemory, stock_sqlite: the same compiled turn graph on LangGraph's `InMemorySaver`
and `AsyncSqliteSaver` (WAL), tuned as a careful user would: `durability="exit"` and the
same bounded history (`memory.window_messages`); no lock, transcript or rate limit.

All four answer with a zero-latency stand-in model, in this process, in the same run. Turn
latency: median of `--repeats` conversations of 200 turns, the systems taking turns (see
`harness` for how turns are sampled). Throughput: N new conversations at once, `--turns`
turns each, turns per second of wall time; the median of 3 rounds, systems taking turns.
Redis is REDIS_URL if set (keys under 'parley-bench', deleted afterwards), else a server
this script starts.

    python bench/memory.py [--repeats 5] [--turns 25] [--json FILE]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Final

import aiosqlite
from harness import (
    Column,
    Turn,
    arguments,
    figure,
    interleaved,
    latency_columns,
    medians,
    report,
    scratch,
    timed,
    zero_latency_model,
)
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.graph import build_graph
from parley_bot.agents.router import SkillRouter
from parley_bot.agents.shared import InMemoryShared
from parley_bot.agents.state import TurnState
from parley_bot.agents.store.redis import RedisStore
from parley_bot.agents.store.sqlite import SqliteStore
from parley_bot.channels.messages import InboundMessage
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.store import KnowledgeStore
from parley_bot.tools.registry import ToolRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.utils: the server
from tests.utils.redis_server import redis_server

CONCURRENCY = (1, 8, 32)
ROUNDS = 3
DURABILITY: Final = "exit"
PREFIX = "parley-bench"


class System:
    """One store under test: `turn(conversation)` sends that conversation's next message."""

    def __init__(self, name: str, send: Any, cleanup: Any = None) -> None:
        self.name = name
        self.send = send
        self.cleanup = cleanup
        self.conversations: list[str] = []

    def turn(self, conversation: str) -> Turn:
        self.conversations.append(conversation)
        return lambda text: self.send(conversation, text)


def parley(name: str, bot: Bot) -> System:
    async def send(conversation: str, text: str) -> Any:
        return await bot.handle(InboundMessage(channel="api", conversation_id=conversation,
                                               text=text))

    async def cleanup(conversations: list[str]) -> None:
        for conversation in set(conversations):
            await bot.forget(f"api:{conversation}")
    return System(name, send, cleanup)


def stock(name: str, config: FlowsConfig, knowledge: KnowledgeStore,
          saver: BaseCheckpointSaver[Any]) -> System:
    graph = build_graph(config, knowledge, [zero_latency_model()], saver,
                        SkillRouter(config.skills, config.router), ToolRegistry.for_bot(config),
                        InMemoryShared())

    async def send(conversation: str, text: str) -> Any:
        message = InboundMessage(channel="api", conversation_id=conversation, text=text)
        turn: TurnState = {"inbound": message, "skill": None, "passages": [], "draft": None,
                           "reply": None}
        return await graph.ainvoke(turn, {"configurable": {"thread_id": message.key}},
                                   durability=DURABILITY)
    return System(name, send)


@contextmanager
def redis_url(folder: Path) -> Iterator[str]:
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    with redis_server(folder / "redis") as server:
        yield server.url


@asynccontextmanager
async def systems(folder: Path) -> AsyncIterator[list[System]]:
    config = load_flows(folder / "bot" / "flows.yaml")
    limits = config.guard.rate_limit.model_copy(update={"per_user": 10**9,
                                                        "per_conversation": 10**9})
    config = config.model_copy(update={"guard": config.guard.model_copy(
        update={"rate_limit": limits})})
    knowledge = await asyncio.to_thread(Ingestor(config.knowledge, config.root).open)
    options: dict[str, Any] = {"knowledge": knowledge, "responders": [zero_latency_model()]}
    async with AsyncExitStack() as stack:
        sqlite_store = await stack.enter_async_context(SqliteStore.open(folder / "parley.db"))
        url = stack.enter_context(redis_url(folder))
        redis_store = await stack.enter_async_context(RedisStore.open(url, prefix=PREFIX))
        stock_db = await stack.enter_async_context(aiosqlite.connect(folder / "stock.db"))
        stock_saver = AsyncSqliteSaver(stock_db)
        await stock_saver.setup()  # WAL mode
        found = [
            parley("parley_sqlite", await stack.enter_async_context(
                Bot.open(config, store=sqlite_store, **options))),
            parley("parley_redis", await stack.enter_async_context(
                Bot.open(config, store=redis_store, **options))),
            stock("stock_inmemory", config, knowledge, InMemorySaver()),
            stock("stock_sqlite", config, knowledge, stock_saver),
        ]
        try:
            yield found
        finally:
            for system in found:
                if system.cleanup:
                    await system.cleanup(system.conversations)


async def throughput(system: System, conversations: int, turns: int, tag: str) -> float:
    """Turns per second with `conversations` new conversations sending at once."""
    started = time.perf_counter()
    await asyncio.gather(*(timed(system.turn(f"{tag}-tps{conversations}-{i}"), turns)
                           for i in range(conversations)))
    return conversations * turns / (time.perf_counter() - started)


async def measure(folder: Path, repeats: int, turns: int) -> dict[str, dict[str, float]]:
    """Latency figures, then throughput: each concurrency `ROUNDS` times, the systems taking
    turns within each round, the median round kept."""
    async with systems(folder) as found:
        runs = await interleaved({s.name: s.turn for s in found}, repeats)
        results = {name: medians(r) for name, r in runs.items()}
        rates: dict[tuple[str, int], list[float]] = {}
        for round_ in range(ROUNDS):
            for n in CONCURRENCY:
                for system in found:
                    rates.setdefault((system.name, n), []).append(
                        await throughput(system, n, turns, f"r{round_}"))
    for (name, n), measured in rates.items():
        results[name][f"tps_{n}"] = round(statistics.median(measured), 1)
    return results


def main() -> None:
    parser = arguments(__doc__ or "", repeats=5)
    parser.add_argument("--turns", type=int, default=25,
                        help="turns per conversation in the throughput runs")
    args = parser.parse_args()
    with scratch() as folder:
        results = asyncio.run(measure(folder, args.repeats, args.turns))
        window = load_flows(folder / "bot" / "flows.yaml").memory.window_messages
    columns: list[Column] = [*latency_columns(),
                             ("turn 200 / turn 1", lambda r: r["turn200_ms"] / r["turn1_ms"]),
                             *((f"turns/s ×{n}", figure(f"tps_{n}")) for n in CONCURRENCY)]
    stock_config = {"durability": DURABILITY, "window_messages": window}
    report(f"Turn latency (median of {args.repeats} conversations) and throughput "
           f"({args.turns} turns per conversation)", results, columns, args.json,
           {"stock_config": stock_config})
    redis, stock_sqlite = results["parley_redis"], results["stock_sqlite"]
    print(f"stock savers tuned: durability={DURABILITY!r}, window_messages={window} "
          "(the same bounded history as parley); parley rate limits lifted")
    print(f"parley_redis turn 200 / turn 1: {redis['turn200_ms'] / redis['turn1_ms']:.2f} "
          "(target ≤ 1.2)")
    print(f"parley_redis / stock_sqlite turns/s at 32 conversations: "
          f"{redis['tps_32'] / stock_sqlite['tps_32']:.2f} (target ≥ 1.5)")


if __name__ == "__main__":
    main()
