"""The interactive terminal chat, on a real pseudo-terminal, keys sent as a terminal sends them."""

from __future__ import annotations

import ctypes
import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from tests.conftest import configure, stub_model
from tests.utils.cli import PARLEY
from tests.utils.openai_stub import OpenAIStub

UP, LEFT, CTRL_C = b"\x1b[A", b"\x1b[D", b"\x03"
PROMPT = b"you>"  # prompt_toolkit moves the cursor past the space instead of printing it


class Terminal:
    """`parley chat` with a pty as its terminal; the test types into it and reads the screen."""

    def __init__(self, controller: int, process: subprocess.Popen[bytes]) -> None:
        self.controller, self.process = controller, process

    def read_until(self, *markers: bytes, timeout: float = 60) -> bytes:
        """The screen until each of `markers` has appeared, in that order."""
        seen, start = b"", 0
        deadline = time.monotonic() + timeout
        for marker in markers:
            while (found := seen.find(marker, start)) < 0:
                assert time.monotonic() < deadline, f"no {marker!r} in {seen[start:]!r}"
                if select.select([self.controller], [], [], 0.2)[0]:
                    seen += os.read(self.controller, 4096)
            start = found + len(marker)
        return seen

    def type(self, keys: bytes) -> None:
        os.write(self.controller, keys)

    def ask(self, keys: bytes, expect: bytes) -> bytes:
        """Type `keys` and Enter; the screen until `expect` and the next prompt after it (the
        prompt is redrawn with the line as typed before the reply comes)."""
        self.type(keys + b"\r")
        return self.read_until(expect, PROMPT)

    def exit_code(self, within: float = 5) -> int:
        started = time.monotonic()
        code = self.process.wait(timeout=within * 2)
        assert time.monotonic() - started < within
        return code


@contextmanager
def terminal(bot_dir: Path, *args: str) -> Iterator[Terminal]:
    controller, tty = pty.openpty()
    # CPR: prompt_toolkit asks the terminal where the cursor is; a bare pty never answers.
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    process = subprocess.Popen([PARLEY, "chat", *args], cwd=bot_dir, stdin=tty, stdout=tty,
                               stderr=tty, env=env)
    try:
        screen = Terminal(controller, process)
        assert b"/help for commands" in screen.read_until(PROMPT)
        yield screen
    finally:
        process.kill()
        process.wait()
        os.close(controller)
        os.close(tty)


async def transcripts(bot_dir: Path, *conversations: str) -> list[list[str]]:
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        return [[t.user_text for t in await bot.conversation(f"terminal:{c}")]
                for c in conversations]


async def test_line_editing_history_reset_and_quit(bot_dir: Path) -> None:
    with terminal(bot_dir, "--verbose") as screen:
        typo_fixed = b"are you open on snday?" + LEFT * 5 + b"u"
        answer = screen.ask(typo_fixed, b"Sunday from 10 am to 5 pm")
        assert b"Sources: store-hours.md" in answer
        assert b"skill store_info \xc2\xb7 model extractive" in answer  # --verbose
        screen.ask(UP, b"Sunday from 10 am to 5 pm")  # the line again, from history
        screen.ask(b"/help", b"/reset   start a new conversation")
        screen.ask(b"/nope", b"Unknown command /nope; /help lists them.")
        reset = screen.ask(b"/reset", b"New conversation")
        found = re.search(rb"New conversation (terminal-[0-9a-f]{6})", reset)
        assert found, reset
        screen.ask(b"how much is express shipping?", b"$14.95")
        screen.ask(b"can I pay express shipping with card 4111 1111 1111 1111?", b"Sources")
        screen.type(b"/quit\r")
        assert screen.exit_code() == 0
    new = found.group(1).decode()
    assert await transcripts(bot_dir, "terminal", new) == [
        ["are you open on sunday?", "are you open on sunday?"],
        ["how much is express shipping?", "can I pay express shipping with card <CARD>?"],
    ]
    history_file = bot_dir / ".parley" / "chat-history"
    history = history_file.read_text()
    assert "+are you open on sunday?" in history and "+/reset" in history
    assert "<CARD>" in history and "4111" not in history  # kept as privacy: redacts
    assert history_file.stat().st_mode & 0o777 == 0o600


def test_prompt_answers_and_ctrl_c_quits_at_once(bot_dir: Path) -> None:
    with terminal(bot_dir) as screen:
        answer = screen.ask(b"are you open on sunday?", b"Sunday from 10 am to 5 pm")
        assert b"store-hours.md" in answer
        screen.process.send_signal(signal.SIGINT)  # as `kill -INT` sends it, to the process
        assert screen.exit_code() == 130


def test_ctrl_c_typed_at_the_prompt_quits_at_once(bot_dir: Path) -> None:
    with terminal(bot_dir) as screen:
        screen.ask(b"are you open on sunday?", b"Sunday from 10 am")
        screen.type(CTRL_C)  # a key at the prompt: the terminal is in raw mode
        assert screen.exit_code() == 130


def test_sigint_quits_at_once_whichever_thread_receives_it(bot_dir: Path) -> None:
    """The kernel hands a process's SIGINT to any of its threads. One that landed on a thread
    other than the main one used to leave the chat asleep (the cause of a flaky test): aim it
    at each thread in turn, the main one last."""
    libc = ctypes.CDLL(None, use_errno=True)
    with terminal(bot_dir) as screen:
        screen.ask(b"are you open on sunday?", b"Sunday from 10 am")
        pid = screen.process.pid
        threads = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        assert len(threads) > 1
        target = next(t for t in threads if t != pid)
        assert libc.tgkill(pid, target, signal.SIGINT) == 0, ctypes.get_errno()
        assert screen.exit_code() == 130


def test_sigint_while_the_model_is_thinking_quits_at_once(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    openai_stub.mode = "hang"
    configure(bot_dir, model=stub_model(openai_stub, timeout_s=60))
    with terminal(bot_dir) as screen:
        screen.type(b"are you open on sunday?\r")
        deadline = time.monotonic() + 30
        while not openai_stub.requests:  # the turn is waiting on the model
            assert time.monotonic() < deadline, "the model was never asked"
            time.sleep(0.05)
        screen.process.send_signal(signal.SIGINT)  # Ctrl-C, with the terminal in cooked mode
        assert screen.exit_code() == 130
