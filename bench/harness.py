"""What parley's turn benchmarks share: the example bot in a scratch folder, a zero-latency
chat model, timed conversations, the pooled medians at turns 1/50/200, and the table.

Figures are medians: turn 1 over the first turns of many conversations (a conversation has
only one), turns 50 and 200 pooled with the turns within `WINDOW` of them. Python's garbage
collector runs after a fixed number of allocations, so in conversations that all allocate
alike a full collection lands on the same turn index every time; a single index then
measures the collector, not the turn (with it on, single indexes swung by 20% from run to
run; pooled, they lay within 10% of each other).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from rich.console import Console
from rich.table import Table

from parley_bot.agents.config import ModelSpec
from parley_bot.agents.models import ChatResponder
from parley_bot.agents.scaffold import init_bot

QUESTIONS = ["how long do I have to return boots?", "how much is express shipping?",
             "are you open on sunday?", "what does the warranty cover?"]
MARKS = (1, 50, 200)
WINDOW = 2  # turns either side of a mark that are pooled with it
FIRSTS = 8  # extra one-turn conversations per repeat, for the turn-1 figure
ANSWER = "Within 60 days, unworn [1]."

Turn = Callable[[str], Awaitable[Any]]
"""Send one question in one conversation and wait for the reply."""


def zero_latency_model() -> ChatResponder:
    """A chat model that answers at once, through parley's real streaming responder."""
    replies = itertools.repeat(AIMessage(ANSWER))
    return ChatResponder(ModelSpec(name="fake:zero"), GenericFakeChatModel(messages=replies))


@contextmanager
def scratch() -> Iterator[Path]:
    """A scratch folder holding the example bot in `bot/`; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    try:
        init_bot(folder / "bot")
        yield folder
    finally:
        shutil.rmtree(folder)


async def timed(turn: Turn, turns: int) -> list[float]:
    """Milliseconds of each of `turns` turns of one conversation, one after another."""
    times = []
    for i in range(turns):
        started = time.perf_counter()
        await turn(QUESTIONS[i % len(QUESTIONS)])
        times.append((time.perf_counter() - started) * 1000)
    return times


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


def arguments(doc: str, repeats: int) -> argparse.ArgumentParser:
    """The options every turn benchmark takes: --repeats and --json."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=repeats,
                        help="200-turn conversations per system")
    parser.add_argument("--json", type=Path, help="write the figures here")
    return parser


Column = tuple[str, Callable[[dict[str, float]], float]]
"""A table column: its heading, and how a system's figures give its value."""


def report(title: str, results: dict[str, dict[str, float]], columns: list[Column],
           json_path: Path | None, extra: dict[str, Any] | None = None) -> None:
    """Print one row per system and, with `json_path`, write the figures (and `extra`)."""
    table = Table(title=title)
    table.add_column("system")
    for label, _ in columns:
        table.add_column(label, justify="right")
    for name, row in results.items():
        table.add_row(name, *(f"{value(row):.2f}" for _, value in columns))
    Console(width=max(Console().width, 132)).print(table)  # piped output: no cut headings
    if json_path:
        json_path.write_text(json.dumps({**results, **(extra or {})}, indent=2) + "\n")


def latency_columns() -> list[Column]:
    """Turn 1, 50 and 200 in milliseconds."""
    return [(f"turn {mark} (ms)", figure(f"turn{mark}_ms")) for mark in MARKS]


def figure(key: str) -> Callable[[dict[str, float]], float]:
    """The column value that is the figure called `key`."""
    return lambda row: row[key]
