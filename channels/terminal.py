"""The terminal channel: chat with a bot at a prompt, or one turn per line of piped input."""

from __future__ import annotations

import asyncio
from typing import TextIO

from rich.console import Console

from agents.bot import Bot
from channels.messages import InboundMessage, OutboundMessage

PROMPT = "you> "


async def chat(bot: Bot, conversation_id: str, source: TextIO, console: Console) -> int:
    """Talk to `bot` until `source` ends (or 'exit'/'quit' at a prompt).

    Args:
        bot: the open bot.
        conversation_id: the conversation to continue; memory keeps it across runs.
        source: where user lines come from; a terminal gets a prompt, a pipe does not.
        console: where replies go.

    Returns:
        How many turns were taken.
    """
    interactive = source.isatty()
    if interactive:
        console.print(f"[bold]{bot.config.name}[/] — type 'exit' to leave.")
    turns = 0
    while True:
        line = await asyncio.to_thread(_read, source, interactive)
        if line is None or (interactive and line.strip() in {"exit", "quit"}):
            return turns
        if not line.strip():
            continue
        message = InboundMessage(channel="terminal", conversation_id=conversation_id,
                                 user_id="terminal", text=line)
        render(await bot.handle(message), console)
        turns += 1


def _read(source: TextIO, interactive: bool) -> str | None:
    if interactive:
        try:
            return input(PROMPT)
        except EOFError:
            return None
    line = source.readline()
    return line.rstrip("\n") if line else None


def render(reply: OutboundMessage, console: Console) -> None:
    """Print a reply as text, with its buttons and sources on their own lines."""
    console.print(reply.text, markup=False, highlight=False)
    if reply.buttons:
        console.print(" | ".join(f"[{b.label}]" for b in reply.buttons), markup=False)
    for citation in reply.citations:
        console.print(f"  source: {citation.label}", style="dim", markup=False, highlight=False)
