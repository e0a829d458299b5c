"""The terminal channel: chat with a bot at a prompt, or one turn per line of piped input."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console

from agents.bot import Bot
from channels.messages import InboundMessage, OutboundMessage

PROMPT = "you> "


async def chat(bot: Bot, conversation_id: str, source: TextIO, console: Console) -> None:
    """Talk to `bot` until `source` ends (or 'exit'/'quit' at a prompt).

    Args:
        bot: the open bot.
        conversation_id: the conversation to continue; memory keeps it across runs.
        source: where user lines come from; a terminal gets a prompt, a pipe does not.
        console: where replies go.

    Lines are read on the event loop's own thread: the terminal has one user, nothing else
    runs while they type, and Ctrl-C reaches the prompt at once.
    """
    interactive = source.isatty()
    if interactive:
        console.print(f"[bold]{bot.config.name}[/] — type 'exit' to leave.")
    while True:
        line = _read(source, interactive)
        if line is None or (interactive and line.strip() in {"exit", "quit"}):
            return
        if not line.strip():
            continue
        message = InboundMessage(channel="terminal", conversation_id=conversation_id,
                                 user_id="terminal", text=line)
        render(await bot.handle(message), console)


def _read(source: TextIO, interactive: bool) -> str | None:
    if interactive:
        try:
            return input(PROMPT)
        except EOFError:
            return None
    line = source.readline()
    return line.rstrip("\n") if line else None


def render(reply: OutboundMessage, console: Console) -> None:
    """Print a reply in its plain-text form (buttons and sources as text lines)."""
    console.print(reply.as_text() + "\n", markup=False, highlight=False)
