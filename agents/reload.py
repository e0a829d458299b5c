"""Hot reload: while a bot serves, edits to flows.yaml, the bot's `tools/` and a finished
`parley ingest` apply to the next turn.

A change is loaded in full (flows.yaml validated, Python tools imported, the index opened,
the router fitted) before it replaces anything; a version that fails to load is logged with
its file:line problems and the bot keeps running the last good one. Conversations live in
memory, which a reload never touches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from parley_bot.agents.bot import Bot
from parley_bot.agents.errors import ConfigError
from parley_bot.agents.flowsfile import load_flows

log = logging.getLogger("parley.reload")


def _watched(flows: Path, bot: Bot) -> Callable[[Change, str], bool]:
    """The filter: flows.yaml itself, anything under tools/ and under the index folder."""
    config = bot.config
    folders = [config.root / "tools", config.path(config.knowledge.index_dir)]
    flows = flows.resolve()

    def watched(change: Change, path: str) -> bool:
        file = Path(path).resolve()
        if file == flows:
            return True
        if file.suffix == ".pyc" or "__pycache__" in file.parts:
            return False
        return any(file.is_relative_to(folder.resolve()) for folder in folders)

    return watched


async def reload_once(bot: Bot, flows: Path) -> bool:
    """Load `flows` and swap it into `bot`; log and keep the running version on failure."""
    try:
        config = await asyncio.to_thread(load_flows, flows)
        await bot.reload(config)
    except ConfigError as exc:
        log.error("%s changed but is not valid; still running the last good version:\n%s",
                  flows, exc)
        return False
    except Exception:  # an index or a model that cannot be set up: same rule
        log.exception("%s changed but could not be loaded; still running the last good "
                      "version", flows)
        return False
    log.info("reloaded %s: %d skill(s), %d tool(s)", flows, len(config.skills),
             len(config.tools) + len(config.python_tools))
    return True


async def watch(bot: Bot, flows: Path, *, debounce_ms: int = 400,
                on_reload: Callable[[bool], None] | None = None,
                stop: asyncio.Event | None = None) -> None:
    """Reload `bot` after each batch of changes, until cancelled (or `stop` is set).

    Args:
        bot: the running bot.
        flows: its flows.yaml; the folder it is in is watched.
        debounce_ms: how long changes are gathered into one reload (an ingest writes
            several files).
        on_reload: told whether each reload succeeded (tests wait on it).
    """
    async for _ in awatch(flows.parent, watch_filter=_watched(flows, bot),
                          debounce=debounce_ms, step=50, stop_event=stop):
        done = await reload_once(bot, flows)
        if on_reload is not None:
            on_reload(done)
