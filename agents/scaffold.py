"""`parley init`: a new bot folder, copied from the example bot that ships with parley."""

from __future__ import annotations

import shutil
from pathlib import Path

from parley_bot.agents.errors import ParleyError

# What a bot folder holds; `tools/` starts empty, for the bot's own Python tools.
_COPIED = ("flows.yaml", "knowledge/docs", "evals")


def example_bot() -> Path:
    """The example bot's folder, inside the installed package."""
    # parley_bot/example: links to the checkout's own bot, or their copy in a wheel.
    return Path(__file__).parents[1] / "example"


def init_bot(target: Path) -> list[Path]:
    """Create a bot folder at `target` from the example bot.

    Returns:
        The files and folders created.

    Raises:
        ParleyError: `target` is a file, or already holds any file the example would write
            (nothing is overwritten).
    """
    if target.exists() and not target.is_dir():
        raise ParleyError(f"{target} exists and is not a folder")
    source = example_bot()
    clashes = [dst for name in _COPIED for f in _files(source / name)
               if (dst := target / f.relative_to(source)).exists()]
    if clashes:
        raise ParleyError(f"{clashes[0]} already exists; not overwriting it "
                          f"({len(clashes)} file(s) would be)")
    created: list[Path] = []
    for name in _COPIED:
        src, dst = source / name, target / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)  # checked above: adds, never replaces
        else:
            shutil.copy2(src, dst)
        created.append(dst)
    tools = target / "tools"
    tools.mkdir(exist_ok=True)
    created.append(tools)
    return created


def _files(path: Path) -> list[Path]:
    return [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
