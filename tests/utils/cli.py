"""Run the installed `parley` console script as a user would, in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
def parley_serving(*args: str, cwd: Path, count: int = 1, log: Path | None = None,
                   timeout: float = 90) -> Iterator[list[str]]:
    """`count` processes of `parley serve ARGS`, each on a free port, until the block ends;
    yields their base URLs once every /healthz answers (they start side by side). With
    `log`, their output is written there, complete once the block has ended."""
    ports = [free_port() for _ in range(count)]
    output = log.open("w") if log else subprocess.DEVNULL
    processes = [subprocess.Popen([PARLEY, "serve", "--port", str(port), *args], cwd=cwd,
                                  stdout=output, stderr=subprocess.STDOUT)
                 for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + timeout
        for base, process in zip(bases, processes, strict=True):
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and process.poll() is None, \
                    "server did not start"
                time.sleep(0.1)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        if log:
            output.close()  # type: ignore[union-attr]
