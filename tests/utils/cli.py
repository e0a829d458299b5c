"""Run the installed `parley` console script as a user would, in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

PARLEY = str(Path(sys.executable).parent / "parley")


def parley(
    *args: str, cwd: Path, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`parley ARGS` in `cwd`, with `stdin` piped in; output captured as text."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([PARLEY, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
