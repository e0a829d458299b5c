"""Run the installed `parley` console script as a user would, in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

PARLEY = str(Path(sys.executable).parent / "parley")


def parley(
    *args: str, cwd: Path, stdin: str = "", timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`parley ARGS` in `cwd`, with `stdin` piped in and `env` added to the environment;
    output captured as text."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run([PARLEY, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(bot_dir: Path, *args: str, env: dict[str, str] | None = None,
            log: Path | None = None) -> Iterator[str]:
    """`parley serve ARGS` on a free port until the block ends; yields its base URL once
    /healthz answers. Its stdout and stderr go to `log` (a file, as under a service manager)."""
    port = free_port()
    with running([PARLEY, "serve", "--port", str(port), *args], bot_dir, port, env=env,
                 log=log or bot_dir / "serve.log") as base:
        yield base


@contextmanager
def running(argv: list[str], cwd: Path, port: int, *, env: dict[str, str] | None = None,
            log: Path) -> Iterator[str]:
    """Run a server command until the block ends; yields its base URL once /healthz answers
    on `port`."""
    with log.open("w") as output:
        process = subprocess.Popen(argv, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, f"server exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"server did not start: {log.read_text()}"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def serving_many(bot_dir: Path, *args: str, count: int) -> Iterator[list[str]]:
    """`count` processes of `parley serve ARGS` on one bot, each with its own port and log
    (`serve-N.log` in the bot folder); yields their base URLs once all answer."""
    with ExitStack() as stack:
        yield [stack.enter_context(serving(bot_dir, *args, log=bot_dir / f"serve-{n}.log"))
               for n in range(count)]
