"""Per-turn time of parley's full turn graph as a conversation grows, beside stock LangGraph.

parley: `Bot.handle` on the example bot (guard → route → retrieve → generate → respond),
SQLite memory, transcript written, and a zero-latency stand-in chat model streamed through
the real responder. Two baselines, both a `StateGraph` of three trivial nodes over
`add_messages` with `SqliteSaver`, the way a LangGraph chatbot is usually written:

- stock: LangGraph's defaults: a checkpoint after every step (durability "async"), the
  whole message history kept;
- stock_tuned: as a careful user would run it: durability "exit" (one checkpoint a turn, as
  parley) and the same bounded history as parley (`memory.window_messages`; older messages
  removed with `RemoveMessage`).

All run in this process, on the same machine, in the same run, conversations interleaved.
Then a sampling profile of parley's turns says where its time goes (`breakdown`).

Each figure is a median over `--repeats` conversations of 200 turns, the two systems taking
turns (see `harness` for how turns 1, 50 and 200 are sampled). Rate limits are lifted: one
conversation sends 200 messages as fast as it can.

    python bench/turn_overhead.py [--repeats 25] [--json FILE]

--json writes {"parley", "stock", "stock_tuned"}, each {"turn1_ms", "turn50_ms", "turn200_ms"},
and "breakdown": parley's milliseconds per turn by part.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

from breakdown import profile
from harness import (
    QUESTIONS,
    WINDOW,
    Column,
    arguments,
    interleaved,
    latency_columns,
    medians,
    report,
    scratch,
    zero_latency_model,
)
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from parley_bot.channels.messages import InboundMessage

UNLIMITED = {"per_user": 10**9, "per_conversation": 10**9}


class StockState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


PROFILED_TURNS = 400


def stock_graph(window: int | None = None) -> Any:
    """Three nodes; with `window`, the respond node drops all but the last `window`
    messages (LangGraph's documented way to bound a conversation's state)."""

    def guard(state: StockState) -> dict[str, Any]:
        return {}

    def model(state: StockState) -> dict[str, Any]:
        return {"messages": [AIMessage("Within 60 days, unworn.")]}

    def respond(state: StockState) -> dict[str, Any]:
        messages = state["messages"]
        if window is None or len(messages) <= window:
            return {}
        return {"messages": [RemoveMessage(id=m.id) for m in messages[:-window] if m.id]}

    graph = StateGraph(StockState)
    for name, node in (("guard", guard), ("model", model), ("respond", respond)):
        graph.add_node(name, node)
    graph.add_edge(START, "guard")
    graph.add_edge("guard", "model")
    graph.add_edge("model", "respond")
    graph.add_edge("respond", END)
    return graph


def parley_turn(bot: Bot, conversation: str) -> Any:
    async def turn(text: str) -> Any:
        return await bot.handle(InboundMessage(channel="api", conversation_id=conversation,
                                               text=text))
    return turn


def stock_turn(app: Any, conversation: str, durability: Any = None) -> Any:
    config = {"configurable": {"thread_id": conversation}}

    async def turn(text: str) -> Any:  # the stock app is sync, as usually written
        return app.invoke({"messages": [HumanMessage(text)]}, config, durability=durability)
    return turn


async def measure(
    folder: Path, repeats: int
) -> tuple[dict[str, list[list[float]]], dict[str, float], dict[str, str]]:
    """parley and both stock apps on `repeats` conversations each, taking turns (`harness`);
    then parley's turns profiled. Returns the runs, the breakdown and how each system was
    set up."""
    config = load_flows(folder / "bot" / "flows.yaml")
    config = config.model_copy(update={"guard": config.guard.model_copy(update={
        "rate_limit": config.guard.rate_limit.model_copy(update=UNLIMITED)})})
    window = config.memory.window_messages
    setups = {
        "parley": f"Bot.handle, example bot, SQLite store, durability 'exit', "
                  f"window_messages={window}, rate limits lifted",
        "stock": "3-node StateGraph, SqliteSaver, durability default ('async': a checkpoint "
                 "per step), whole history kept",
        "stock_tuned": f"3-node StateGraph, SqliteSaver, durability 'exit', last {window} "
                       "messages kept (RemoveMessage)",
    }
    with (sqlite3.connect(folder / "stock.sqlite", check_same_thread=False) as conn,
          sqlite3.connect(folder / "tuned.sqlite", check_same_thread=False) as tuned_conn):
        app = stock_graph().compile(checkpointer=SqliteSaver(conn))
        tuned = stock_graph(window).compile(checkpointer=SqliteSaver(tuned_conn))
        async with Bot.open(config, responders=[zero_latency_model()]) as bot:
            runs = await interleaved({
                "parley": lambda c: parley_turn(bot, c),
                "stock": lambda c: stock_turn(app, c),
                "stock_tuned": lambda c: stock_turn(tuned, c, "exit"),
            }, repeats)
            turns = [parley_turn(bot, f"profiled-{i}") for i in range(20)]
            parts = await profile(lambda i: turns[i % 20](QUESTIONS[i % len(QUESTIONS)]),
                                  PROFILED_TURNS)
    return runs, parts, setups


def main() -> None:
    args = arguments(__doc__ or "", repeats=25).parse_args()
    with scratch() as folder:
        runs, parts, setups = asyncio.run(measure(folder, args.repeats))
    results = {name: medians(r) for name, r in runs.items()}
    growth: Column = ("turn 200 / turn 1", lambda row: row["turn200_ms"] / row["turn1_ms"])
    report(f"Per-turn time (ms), median of {args.repeats} conversations"
           f" (turns 50 and 200: ±{WINDOW} turns)",
           results, [*latency_columns(), growth], args.json, {"breakdown": parts})
    for name, setup in setups.items():
        print(f"{name}: {setup}")
    parley, tuned = results["parley"], results["stock_tuned"]
    print("parley / stock_tuned: " + ", ".join(
        f"turn {mark} {parley[f'turn{mark}_ms'] / tuned[f'turn{mark}_ms']:.2f}x"
        for mark in (1, 200)) + " (target ≤ 2x)")
    print(f"\nWhere parley's turn goes ({PROFILED_TURNS} turns sampled; the profiler slows "
          "each turn, so read the shares):")
    total = sum(parts.values()) or 1.0
    for part, ms in parts.items():
        print(f"  {part:<30} {ms:7.3f} ms  {ms / total:6.1%}")


if __name__ == "__main__":
    main()
