"""`parley init`: a new bot folder, from the neutral starter or the example shop, both of which
ship inside the package."""

from __future__ import annotations

import shutil
from pathlib import Path

from ruamel.yaml import YAML

from parley_bot.agents.errors import ParleyError

# What each bot folder holds; `tools/` starts empty, for the bot's own Python tools.
_EXAMPLE = ("flows.yaml", "knowledge/docs", "evals")
_STARTER = ("flows.yaml", "README.md", "knowledge/docs", "evals")


def example_bot() -> Path:
    """The example bot's folder (Acme Outdoor), inside the installed package."""
    # parley_bot/example: links to the checkout's own bot, or their copy in a wheel.
    return Path(__file__).parents[1] / "example"


def starter_bot() -> Path:
    """The starter's folder: one document, one skill, a README."""
    return Path(__file__).parent / "starter"


def init_bot(target: Path, *, example: bool = False) -> list[Path]:
    """Create a bot folder at `target`: the starter, named after the folder, or the example.

    Returns:
        The files and folders created.

    Raises:
        ParleyError: `target` is a file, or already holds any file the new bot would have
            (nothing is overwritten).
    """
    if target.exists() and not target.is_dir():
        raise ParleyError(f"{target} exists and is not a folder")
    source, copied = (example_bot(), _EXAMPLE) if example else (starter_bot(), _STARTER)
    clashes = [dst for name in copied for f in _files(source / name)
               if (dst := target / f.relative_to(source)).exists()]
    if clashes:
        raise ParleyError(f"{clashes[0]} already exists; not overwriting it "
                          f"({len(clashes)} file(s) would be)")
    created: list[Path] = []
    for name in copied:
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
    if not example:
        _name(target, target.resolve().name)
    return created


def _name(bot: Path, name: str) -> None:
    """Give the starter `name`: in flows.yaml (comments kept) and as its README's title."""
    yaml = YAML()  # round-trip: the comments that explain flows.yaml stay
    yaml.width = 4096  # and no line is re-wrapped or re-indented
    yaml.indent(mapping=2, sequence=4, offset=2)
    flows = bot / "flows.yaml"
    data = yaml.load(flows)
    data["name"] = name
    yaml.dump(data, flows)
    readme = bot / "README.md"
    body = readme.read_text(encoding="utf-8").split("\n", 1)[1]  # after the title line
    readme.write_text(f"# {name}\n{body}", encoding="utf-8")


def _files(path: Path) -> list[Path]:
    return [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
