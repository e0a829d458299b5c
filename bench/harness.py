"""What parley's turn benchmarks share: the example bot in a scratch folder, a zero-latency
chat model, interleaved timed conversations, the pooled medians at turns 1/50/200, and the
table.

Figures are medians. The systems compared take turns one turn at a time, so load from
elsewhere on the machine hits each alike. Turns 50 and 200 are pooled with the turns within
`WINDOW` of them: Python's garbage collector runs after a fixed number of allocations, so in
conversations that all allocate alike a full collection lands on the same turn index every
time, and a single index measures the collector, not the turn (single indexes swung by 20%
from run to run; pooled, within 10%). Turn 1 is the first turn of fresh conversations
started beside every pooled turn, so it is measured under the same load as turns 50 and 200
and their ratio says how a conversation's length costs, not how the machine's load moved.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from rich.console import Console
from rich.table import Table

from parley_bot.agents.config import ModelSpec
from parley_bot.agents.models import ChatResponder
from parley_bot.agents.scaffold import init_bot

QUESTIONS = ["how long do I have to return boots?", "how much is express shipping?",
             "are you open on sunday?", "what does the warranty cover?"]
MARKS = (1, 50, 200)
WINDOW = 2  # turns either side of a mark that are pooled with it
ANSWER = "Within 60 days, unworn [1]."

Turn = Callable[[str], Awaitable[Any]]
"""Send one question in one conversation and wait for the reply."""


class ZeroLatencyChatModel(GenericFakeChatModel):
    """`GenericFakeChatModel` streaming natively on the event loop, as real chat model clients
    do: the base class's async stream would run its sync stream in a worker thread, one
    hop per token, a cost of the stand-in rather than of what is measured."""

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages, stop=stop, **kwargs):
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


def zero_latency_model() -> ChatResponder:
    """A chat model that answers at once, through parley's real streaming responder."""
    replies = itertools.repeat(AIMessage(ANSWER))
    return ChatResponder(ModelSpec(name="fake:zero"), ZeroLatencyChatModel(messages=replies))


@contextmanager
def scratch() -> Iterator[Path]:
    """A scratch folder holding the example bot in `bot/`; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    try:
        init_bot(folder / "bot")
        yield folder
    finally:
        shutil.rmtree(folder)


async def timed(turn: Turn, turns: int, start: int = 0) -> list[float]:
    """Milliseconds of each of `turns` turns of one conversation, one after another (the
    `start`th question first)."""
    times = []
    for i in range(start, start + turns):
        started = time.perf_counter()
        await turn(QUESTIONS[i % len(QUESTIONS)])
        times.append((time.perf_counter() - started) * 1000)
    return times


Conversation = Callable[[str], Turn]
"""Open a conversation by its id: its `Turn`."""
POOLED = sorted({t for mark in MARKS for t in range(mark - WINDOW, mark + WINDOW + 1) if t > 1}
                & set(range(1, max(MARKS) + 1)))
"""The turns pooled into the marks after the first; a fresh conversation starts beside each."""


async def interleaved(
    systems: dict[str, Conversation], repeats: int
) -> dict[str, list[list[float]]]:
    """Per system, `repeats` conversations of 200 turns and one-turn conversations started
    beside each pooled turn, the systems taking turns one turn at a time, after a warm-up
    conversation each (turn 1 is then a new conversation's, not a new process's)."""
    for conversation in systems.values():
        await timed(conversation("warm-up"), 5)
    runs: dict[str, list[list[float]]] = {name: [] for name in systems}
    for repeat in range(repeats):
        turns = {name: conversation(f"c{repeat}") for name, conversation in systems.items()}
        times: dict[str, list[float]] = {name: [] for name in systems}
        for t in range(1, max(MARKS) + 1):
            for name, turn in turns.items():
                times[name] += await timed(turn, 1, start=t - 1)
            if t in POOLED:
                for name, conversation in systems.items():
                    runs[name].append(await timed(conversation(f"c{repeat}-{t}"), 1))
        for name in systems:
            runs[name].append(times[name])
    return runs


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
