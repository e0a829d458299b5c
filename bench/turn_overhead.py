"""Per-turn time of parley's full turn graph as a conversation grows, beside stock LangGraph.

parley: `Bot.handle` on the example bot (guard → route → retrieve → generate → respond),
SQLite memory, transcript written, and a zero-latency stand-in chat model streamed through
the real responder. Stock: a `StateGraph` of three trivial nodes over `add_messages` with
`SqliteSaver`, the way a LangGraph chatbot is usually written. Both run in this process, on
the same machine, in the same run, conversations interleaved.

Each figure is a median over `--repeats` conversations of 200 turns, the two systems taking
turns (see `harness` for how turns 1, 50 and 200 are sampled). Rate limits are lifted: one
conversation sends 200 messages as fast as it can.

    python bench/turn_overhead.py [--repeats 25] [--json FILE]
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

from harness import (
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
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from parley_bot.channels.messages import InboundMessage

UNLIMITED = {"per_user": 10**9, "per_conversation": 10**9}


class StockState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def stock_graph() -> Any:
    def guard(state: StockState) -> dict[str, Any]:
        return {}

    def model(state: StockState) -> dict[str, Any]:
        return {"messages": [AIMessage("Within 60 days, unworn.")]}

    def respond(state: StockState) -> dict[str, Any]:
        return {}

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


def stock_turn(app: Any, conversation: str) -> Any:
    config = {"configurable": {"thread_id": conversation}}

    async def turn(text: str) -> Any:  # the stock app is sync, as usually written
        return app.invoke({"messages": [HumanMessage(text)]}, config)
    return turn


async def measure(folder: Path, repeats: int) -> dict[str, list[list[float]]]:
    """parley and the stock app on `repeats` conversations each, taking turns (`harness`)."""
    config = load_flows(folder / "bot" / "flows.yaml")
    config = config.model_copy(update={"guard": config.guard.model_copy(update={
        "rate_limit": config.guard.rate_limit.model_copy(update=UNLIMITED)})})
    with sqlite3.connect(folder / "stock.sqlite", check_same_thread=False) as conn:
        app = stock_graph().compile(checkpointer=SqliteSaver(conn))
        async with Bot.open(config, responders=[zero_latency_model()]) as bot:
            return await interleaved({"parley": lambda c: parley_turn(bot, c),
                                      "stock": lambda c: stock_turn(app, c)}, repeats)


def main() -> None:
    args = arguments(__doc__ or "", repeats=25).parse_args()
    with scratch() as folder:
        runs = asyncio.run(measure(folder, args.repeats))
    growth: Column = ("turn 200 / turn 1", lambda row: row["turn200_ms"] / row["turn1_ms"])
    report(f"Per-turn time (ms), median of {args.repeats} conversations"
           f" (turns 50 and 200: ±{WINDOW} turns)",
           {name: medians(r) for name, r in runs.items()}, [*latency_columns(), growth],
           args.json)


if __name__ == "__main__":
    main()
