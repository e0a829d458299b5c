"""The terminal channel: an interactive chat with line editing and history, or one turn per
line of piped input."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from rich.console import Console
from rich.text import Text

from parley_bot.agents.bot import Bot
from parley_bot.agents.privacy import Redactor
from parley_bot.channels.messages import MAX_CONVERSATION_ID, InboundMessage, OutboundMessage

PROMPT = "you> "
HELP = """\
/help    this list
/reset   start a new conversation (the bot forgets this one)
/quit    leave (so do Ctrl-D and Ctrl-C)
Up and Down recall earlier lines; Left, Right, Home, End and Ctrl-R edit and search them."""


async def chat(bot: Bot, conversation_id: str, source: TextIO, console: Console, *,
               verbose: bool = False, history: Path | None = None) -> None:
    """Talk to `bot` until `source` ends or the user quits.

    Args:
        bot: the open bot.
        conversation_id: the conversation to continue; memory keeps it across runs.
        source: where user lines come from; a terminal gets a prompt, a pipe does not.
        console: where replies go.
        verbose: also show each reply's skill, model, sources and time.
        history: file of past input lines, for Up/Down at the prompt (None: this run only).

    Raises:
        KeyboardInterrupt: Ctrl-C, at the prompt or while the bot answers.
    """
    turns = _Turns(bot, conversation_id, console, verbose)
    with _sigint_interrupts():
        if source.isatty():
            await _interactive(turns, history)
        else:
            while (line := await _piped_line(source)) is not None:
                if line.strip():
                    await turns.take(line)


class _Turns:
    """Sends lines to the bot in one conversation and prints the replies."""

    def __init__(self, bot: Bot, conversation_id: str, console: Console, verbose: bool) -> None:
        self.bot, self.conversation_id, self.console = bot, conversation_id, console
        self._verbose = verbose
        self._base = conversation_id[:MAX_CONVERSATION_ID - 7]

    async def take(self, line: str) -> None:
        message = InboundMessage(channel="terminal", conversation_id=self.conversation_id,
                                 user_id="terminal", text=line)
        started = time.perf_counter()
        reply = await self.bot.handle(message)
        render(reply, self.console)
        if self._verbose:
            self.console.print(details(reply, time.perf_counter() - started) + "\n",
                               style="dim", markup=False, highlight=False)

    def reset(self) -> None:
        """Continue in a new conversation: the first one's id and a random suffix."""
        self.conversation_id = f"{self._base}-{secrets.token_hex(3)}"


async def _interactive(turns: _Turns, history: Path | None) -> None:
    console = turns.console
    console.print(Text.assemble((turns.bot.config.name, "bold"),
                                " — /help for commands, /quit to leave."))
    redactor = Redactor.from_config(turns.bot.config.privacy)
    session: PromptSession[str] = PromptSession(history=_history(history, redactor))
    while True:
        try:
            # SIGINT is ours (see _sigint_interrupts); Ctrl-C typed at the prompt is a key.
            line = (await session.prompt_async(PROMPT, handle_sigint=False)).strip()
        except EOFError:  # Ctrl-D
            return
        if line in ("/quit", "/exit"):
            return
        if line == "/help":
            console.print(HELP, markup=False, highlight=False)
        elif line == "/reset":
            turns.reset()
            console.print(f"New conversation {turns.conversation_id} (continue it later with "
                          f"--conversation {turns.conversation_id}).", markup=False,
                          highlight=False)
        elif line.startswith("/") and " " not in line:
            console.print(f"Unknown command {line}; /help lists them.", markup=False,
                          highlight=False)
        elif line:
            await turns.take(line)


def _history(path: Path | None, redactor: Redactor | None) -> History:
    if path is None:
        return InMemoryHistory()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)  # past questions are the user's own: no one else reads them
    return _RedactedHistory(str(path), redactor)


class _RedactedHistory(FileHistory):
    """Lines are kept as `privacy:` redacts them for the transcript: a card number typed at
    the prompt is not written to disk as typed."""

    def __init__(self, filename: str, redactor: Redactor | None) -> None:
        super().__init__(filename)
        self._redactor = redactor

    def store_string(self, string: str) -> None:
        super().store_string(self._redactor(string) if self._redactor else string)


@contextlib.contextmanager
def _sigint_interrupts() -> Iterator[None]:
    """Make SIGINT interrupt the chat from the event loop, whichever thread it lands on.

    `asyncio.run` handles SIGINT with a plain signal handler, which runs on the main thread
    only, and sets no wakeup fd: a SIGINT the kernel hands to another thread (the input
    reader, aiosqlite's, the executor's) leaves the loop asleep and the chat running. The
    loop's own handler is woken through its self-pipe from any thread.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None, "called from a coroutine"
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        yield
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def _piped_line(source: TextIO) -> str | None:
    """Read one line in a daemon thread: a thread-pool worker blocked on the pipe would be
    joined at exit, so Ctrl-C would wait for the next line or the end of the input."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def deliver(line: str | None) -> None:
        if not future.done():
            future.set_result(line)

    def read() -> None:
        line = source.readline()
        with contextlib.suppress(RuntimeError):  # the loop closed while waiting for input
            loop.call_soon_threadsafe(deliver, line.rstrip("\n") if line else None)

    threading.Thread(target=read, name="terminal-input", daemon=True).start()
    return await future


def render(reply: OutboundMessage, console: Console) -> None:
    """Print a reply in its plain-text form (buttons and sources as text lines)."""
    console.print(reply.as_text() + "\n", markup=False, highlight=False)


def details(reply: OutboundMessage, seconds: float) -> str:
    """`skill returns · model extractive · 12 ms · returns.md#time-limits`: what --verbose adds."""
    parts = [f"skill {reply.skill or '-'}",
             f"model {reply.usage.model if reply.usage else '-'}" + (
                 " (fallback)" if reply.fallback else ""),
             f"{seconds * 1000:.0f} ms"]
    if reply.usage and (reply.usage.input_tokens or reply.usage.output_tokens):
        parts.append(f"{reply.usage.input_tokens}+{reply.usage.output_tokens} tokens")
    parts.extend(c.link for c in reply.citations)
    return " · ".join(parts)
