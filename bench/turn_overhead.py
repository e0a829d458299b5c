"""Per-turn time of parley's full turn graph as a conversation grows, beside stock LangGraph.

parley: `Bot.handle` on the example bot (guard → route → retrieve → generate → respond),
SQLite memory, transcript written, and a zero-latency stand-in chat model streamed through
the real responder. Stock: a `StateGraph` of three trivial nodes over `add_messages` with
`SqliteSaver`, the way a LangGraph chatbot is usually written. Both run in this process, on
the same machine, in the same run, conversations interleaved.

Each figure is a median over `--repeats` conversations of 200 turns. Turn 1 is the first turn
of those and of `FIRSTS` more one-turn conversations per repeat; turns 50 and 200 pool the
turns within two of the mark (48-52, 198-200). Python's
garbage collector runs after a fixed number of allocations, so in conversations that all
allocate alike a full collection lands on the same turn index every time; a single index
then measures the collector, not the turn: with it on, single indexes swung by 20% from
run to run; with it off, they lay within 10% of each other.

    python bench/turn_overhead.py [--repeats 25] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from rich.console import Console
from rich.table import Table

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import ModelSpec
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.models import ChatResponder
from parley_bot.agents.scaffold import init_bot
from parley_bot.channels.messages import InboundMessage

QUESTIONS = ["how long do I have to return boots?", "how much is express shipping?",
             "are you open on sunday?", "what does the warranty cover?"]
MARKS = (1, 50, 200)


def zero_latency_model() -> ChatResponder:
    replies = itertools.repeat(AIMessage("Within 60 days, unworn [1]."))
    return ChatResponder(ModelSpec(name="fake:zero"), GenericFakeChatModel(messages=replies))


async def parley_turns(bot: Bot, turns: int, conversation: str) -> list[float]:
    times = []
    for turn in range(turns):
        message = InboundMessage(channel="api", conversation_id=conversation,
                                 text=QUESTIONS[turn % len(QUESTIONS)])
        started = time.perf_counter()
        await bot.handle(message)
        times.append((time.perf_counter() - started) * 1000)
    return times


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


def stock_turns(app: Any, turns: int, conversation: str) -> list[float]:
    config = {"configurable": {"thread_id": conversation}}
    times = []
    for turn in range(turns):
        started = time.perf_counter()
        app.invoke({"messages": [HumanMessage(QUESTIONS[turn % len(QUESTIONS)])]}, config)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def measure(folder: Path, repeats: int) -> tuple[list[list[float]], list[list[float]]]:
    """Run `repeats` conversations on each system, interleaved so drift hits both alike.

    One bot and one stock app serve every conversation, each warmed up by a conversation of
    its own first: turn 1 is then the first turn of a new conversation, not of a new process.
    Each repeat adds `FIRSTS` one-turn conversations too, since a conversation has only one
    first turn and a median of few single turns is noisy.
    """
    turns = max(MARKS)
    config = load_flows(folder / "bot" / "flows.yaml")
    with sqlite3.connect(folder / "stock.sqlite", check_same_thread=False) as conn:
        app = stock_graph().compile(checkpointer=SqliteSaver(conn))
        async with Bot.open(config, responders=[zero_latency_model()]) as bot:
            await parley_turns(bot, 5, "warm-up")
            stock_turns(app, 5, "warm-up")
            parley_runs, stock_runs = [], []
            for repeat in range(repeats):
                parley_runs.append(await parley_turns(bot, turns, f"c{repeat}"))
                stock_runs.append(stock_turns(app, turns, f"c{repeat}"))
                for first in range(FIRSTS):
                    parley_runs.append(await parley_turns(bot, 1, f"c{repeat}-{first}"))
                    stock_runs.append(stock_turns(app, 1, f"c{repeat}-{first}"))
    return parley_runs, stock_runs


WINDOW = 2  # turns either side of a mark that are pooled with it
FIRSTS = 8  # extra one-turn conversations per repeat, for the turn-1 figure


def medians(runs: list[list[float]]) -> dict[str, float]:
    """Median time at each mark, over all conversations and the turns within WINDOW of it."""
    figures = {}
    for mark in MARKS:
        if mark == 1:  # only a first turn is a first turn
            samples = [run[0] for run in runs]
        else:
            samples = [t for run in runs if len(run) >= mark
                       for t in run[mark - 1 - WINDOW:mark + WINDOW]]
        figures[f"turn{mark}_ms"] = round(statistics.median(samples), 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=25, help="conversations per system")
    parser.add_argument("--json", type=Path, help="write the medians here")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    try:
        init_bot(folder / "bot")
        parley_runs, stock_runs = asyncio.run(measure(folder, args.repeats))
    finally:
        shutil.rmtree(folder)
    results = {"parley": medians(parley_runs), "stock": medians(stock_runs)}
    table = Table(title=f"Per-turn time (ms), median of {args.repeats} conversations"
                        f" (turns 50 and 200: ±{WINDOW} turns)")
    table.add_column("system")
    for mark in MARKS:
        table.add_column(f"turn {mark}", justify="right")
    table.add_column("turn 200 / turn 1", justify="right")
    for name, row in results.items():
        table.add_row(name, *(f"{row[f'turn{m}_ms']:.2f}" for m in MARKS),
                      f"{row['turn200_ms'] / row['turn1_ms']:.2f}x")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
