"""Python tools: the LangChain `@tool` functions in a bot's own `tools/` folder.

Each load imports the folder as a fresh private package (`_parley_tools_<n>`), so a bot's
`tools/` never clashes with `parley_bot.tools` or any installed package, modules in it can
import each other (`from . import catalog`), and a reload after an edit runs the new code.
Files whose names start with `_` are helpers, not scanned for tools.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
import traceback
from pathlib import Path

from langchain_core.tools import BaseTool

from parley_bot.agents.errors import ConfigError, Problem

_loads = itertools.count(1)


def load_python_tools(folder: Path) -> dict[str, BaseTool]:
    """Import every module of `folder` and collect its tools by name.

    Args:
        folder: the bot's `tools/` folder; a missing folder has no tools.

    Raises:
        ConfigError: a module failed to import (located at the failing line) or two tools
            share a name.
    """
    if folder.resolve() == Path(__file__).resolve().parent:
        return {}  # the checkout is the example bot: its tools/ is parley's own registry
    files = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if not files:
        return {}
    package = f"_parley_tools_{next(_loads)}"
    spec = importlib.util.spec_from_loader(package, loader=None, is_package=True)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__path__ = [str(folder)]
    _forget_older_loads()
    sys.modules[package] = module
    found: dict[str, BaseTool] = {}
    problems: list[Problem] = []
    for file in files:
        try:
            loaded = importlib.import_module(f"{package}.{file.stem}")
        except Exception as exc:  # the bot's own code: any error is the author's to see
            problems.append(_problem(file, exc))
            continue
        for value in vars(loaded).values():
            if isinstance(value, BaseTool) and found.setdefault(value.name, value) is not value:
                problems.append(Problem(str(file), 1, 1, "",
                                        f"tool {value.name!r} is defined twice in tools/"))
    if problems:
        raise ConfigError(problems)
    return found


def _problem(file: Path, exc: Exception) -> Problem:
    """Where in `file` the import failed: the syntax error's place, or the deepest frame."""
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return Problem(str(file), exc.lineno, exc.offset or 1, "", f"SyntaxError: {exc.msg}")
    line = next((frame.lineno for frame in reversed(traceback.extract_tb(exc.__traceback__))
                 if Path(frame.filename) == file), 1)
    return Problem(str(file), line or 1, 1, "", f"cannot import: {type(exc).__name__}: {exc}")


def _forget_older_loads() -> None:
    """Drop the modules of earlier loads; tools already built keep working."""
    for name in [n for n in sys.modules if n.startswith("_parley_tools_")]:
        del sys.modules[name]
