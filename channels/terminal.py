"""The terminal channel: chat with a bot at a prompt, or one turn per line of piped input."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TextIO

from rich.console import Console
from rich.text import Text

from parley_bot.agents.bot import Bot
from parley_bot.channels.messages import InboundMessage, OutboundMessage

PROMPT = "you> "


async def chat(bot: Bot, conversation_id: str, source: TextIO, console: Console,
               verbose: bool = False) -> None:
    """Talk to `bot` until `source` ends (or 'exit'/'quit' at a prompt).

    Args:
        bot: the open bot.
        conversation_id: the conversation to continue; memory keeps it across runs.
        source: where user lines come from; a terminal gets a prompt, a pipe does not.
        console: where replies go.
        verbose: also show which skill answered each turn.
    """
    interactive = source.isatty()
    if interactive:
        console.print(Text.assemble((bot.config.name, "bold"), " — type 'exit' to leave."))
    while True:
        line = await _next_line(source, interactive)
        if line is None or (interactive and line.strip() in {"exit", "quit"}):
            return
        if not line.strip():
            continue
        message = InboundMessage(channel="terminal", conversation_id=conversation_id,
                                 user_id="terminal", text=line)
        render(await bot.handle(message), console, verbose)


async def _next_line(source: TextIO, interactive: bool) -> str | None:
    """Read one line in a daemon thread. Blocking the loop would keep Ctrl-C from reaching the
    prompt (asyncio handles SIGINT by cancelling the task), and a thread-pool worker stuck in
    `input()` would be joined at exit, so the user would have to press Enter to quit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def deliver(line: str | None) -> None:
        if not future.done():
            future.set_result(line)

    def read() -> None:
        line = _read(source, interactive)
        with contextlib.suppress(RuntimeError):  # the loop closed while the user was typing
            loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, name="terminal-input", daemon=True).start()
    return await future


def _read(source: TextIO, interactive: bool) -> str | None:
    if interactive:
        try:
            return input(PROMPT)
        except EOFError:
            return None
    line = source.readline()
    return line.rstrip("\n") if line else None


def render(reply: OutboundMessage, console: Console, verbose: bool = False) -> None:
    """Print a reply in its plain-text form (buttons and sources as text lines); `verbose`
    adds the skill that answered."""
    if verbose:
        console.print(Text(f"[skill: {reply.skill or 'none'}]", style="dim"))
    console.print(reply.as_text() + "\n", markup=False, highlight=False)
