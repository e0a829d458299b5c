"""The interactive terminal chat, on a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

from tests.utils.cli import PARLEY


def read_until(fd: int, marker: bytes, timeout: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        assert time.monotonic() < deadline, f"no {marker!r} in {seen!r}"
        if select.select([fd], [], [], 0.2)[0]:
            seen += os.read(fd, 4096)
    return seen


def test_prompt_answers_and_ctrl_c_quits_at_once(bot_dir: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen([PARLEY, "chat"], cwd=bot_dir, stdin=terminal, stdout=terminal,
                               stderr=terminal, env={**os.environ, "COLUMNS": "200"})
    try:
        assert b"type 'exit' to leave" in read_until(controller, b"you> ")
        os.write(controller, b"are you open on sunday?\n")
        answer = read_until(controller, b"you> ")
        assert b"Sunday from 10 am to 5 pm" in answer and b"store-hours.md" in answer
        started = time.monotonic()
        process.send_signal(signal.SIGINT)  # what Ctrl-C at the prompt sends
        assert process.wait(timeout=10) == 130
        assert time.monotonic() - started < 5
    finally:
        process.kill()
        os.close(controller)
        os.close(terminal)
