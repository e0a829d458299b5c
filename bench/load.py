"""Throughput of `parley serve` under many users at once, beside a bare FastAPI app.

parley: `parley serve` with its defaults (logging, metrics, the SQLite store, rate limits) on
a bot made by `parley init` in a temporary folder (the starter: model `extractive`, no
network). bare: `bare_app.py`, the same two routes replying at once from memory. Both on
the same uvicorn (with uvloop and httptools) and `--workers N`, started one after the other
in this run, on this machine.

The client (aiohttp, in this process) runs `--users` simulated users at once, closed loop:
each user has its own `user_id` and conversation and sends `--messages` questions, each
after the previous reply. Then every conversation's history is read back
(`GET /api/conversations/{id}`): a turn answered but missing from it, or not answered, is
lost. The client shares the machine's cores with the server: its own CPU use is reported.
With several bare workers each keeps its own history, so bare's loss is checked only with
one worker.

    python bench/load.py [--users 1000] [--messages 5] [--workers 1] [--json FILE]

--json writes {"parley": {"msg_s", "p50_s", "p95_s", "lost"}, "bare": {...}, "workers"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from harness import QUESTIONS
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.utils: the servers
from tests.utils.cli import PARLEY, free_port, running

BENCH = Path(__file__).resolve().parent


@contextmanager
def parley_server(folder: Path, workers: int) -> Iterator[str]:
    """`parley serve` on a new starter bot in `folder`; yields its base URL."""
    subprocess.run([PARLEY, "init", str(folder / "bot")], check=True, capture_output=True)
    port = free_port()
    with running([PARLEY, "serve", "--port", str(port), "--workers", str(workers),
                  "--no-reload"], folder / "bot", port, log=folder / "parley.log") as base:
        yield base


@contextmanager
def bare_server(folder: Path, workers: int) -> Iterator[str]:
    """The bare app on the same uvicorn; yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(BENCH),
            "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    with running(argv, folder, port, log=folder / "bare.log") as base:
        yield base


async def drive(base: str, users: int, messages: int, connections: int,
                check_history: bool) -> dict[str, Any]:
    """Every user's messages, closed loop; then their histories. Returns msg/s, p50/p95
    latency in seconds, lost turns, failed requests and the client's CPU share."""
    latencies: list[float] = []
    failed = 0
    tag = f"{time.time_ns():x}"

    async def user(session: aiohttp.ClientSession, n: int) -> None:
        nonlocal failed
        conversation = f"load-{tag}-{n}"
        for i in range(messages):
            body = {"conversation_id": conversation, "user_id": f"user-{tag}-{n}",
                    "text": QUESTIONS[(n + i) % len(QUESTIONS)]}
            started = time.perf_counter()
            async with session.post(f"{base}/api/chat", json=body) as response:
                await response.read()
                if response.status != 200:
                    failed += 1
            latencies.append(time.perf_counter() - started)

    async def kept(session: aiohttp.ClientSession, n: int) -> int:
        async with session.get(f"{base}/api/conversations/load-{tag}-{n}") as response:
            return len((await response.json())["turns"]) if response.status == 200 else 0

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        cpu = _cpu()
        started = time.perf_counter()
        await asyncio.gather(*(user(session, n) for n in range(users)))
        seconds = time.perf_counter() - started
        client_cpu = (_cpu() - cpu) / seconds
        lost: int | None = None
        if check_history:
            histories = await asyncio.gather(*(kept(session, n) for n in range(users)))
            lost = sum(max(messages - kept_turns, 0) for kept_turns in histories)
    cuts = statistics.quantiles(latencies, n=100)
    return {"msg_s": round(users * messages / seconds, 1),
            "p50_s": round(statistics.median(latencies), 4), "p95_s": round(cuts[94], 4),
            "lost": lost, "failed": failed, "client_cpu": round(client_cpu, 2)}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _raise_file_limit() -> None:
    """One socket per connection: allow as many as the hard limit does."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def show(results: dict[str, Any], args: argparse.Namespace) -> None:
    table = Table(title=f"{args.users} users × {args.messages} messages, closed loop, "
                        f"{args.workers} worker(s), {args.connections} connections")
    for column in ("server", "msg/s", "p50 s", "p95 s", "lost", "failed", "client CPU"):
        table.add_column(column, justify="left" if column == "server" else "right")
    for name in ("parley", "bare"):
        row = results[name]
        table.add_row(name, f"{row['msg_s']:.1f}", f"{row['p50_s']:.3f}", f"{row['p95_s']:.3f}",
                      "not checked" if row["lost"] is None else str(row["lost"]),
                      str(row["failed"]), f"{row['client_cpu']:.0%}")
    Console(width=max(Console().width, 110)).print(table)
    print(f"parley / bare msg/s: {results['parley']['msg_s'] / results['bare']['msg_s']:.3f} "
          "(target ≥ 0.10 on one worker)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5, help="per user")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--connections", type=int, default=256,
                        help="the client's connection pool (users wait for a free one)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    _raise_file_limit()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="parley-load-") as tmp:
        folder = Path(tmp)
        with parley_server(folder, args.workers) as base:
            results["parley"] = asyncio.run(drive(base, args.users, args.messages,
                                                  args.connections, check_history=True))
        with bare_server(folder, args.workers) as base:
            results["bare"] = asyncio.run(drive(base, args.users, args.messages,
                                                args.connections,
                                                check_history=args.workers == 1))
    results["workers"] = args.workers
    show(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
