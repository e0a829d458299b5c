"""Read flows.yaml into a `FlowsConfig`, reporting every problem with its line and column.

YAML syntax errors stop a normal parser at the first one. To report them all together with
the schema errors behind them, a line the parser rejects is blanked (line numbers stay put)
and the text parsed again, up to a bound; the document that survives is then validated.
"""

from __future__ import annotations

import typing
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from parley_bot.agents.config import FieldError, FlowsConfig, Strict
from parley_bot.agents.errors import ConfigError, Problem

_MAX_SYNTAX_ERRORS = 20


def load_flows(path: Path | str) -> FlowsConfig:
    """Load and validate a flows.yaml file.

    Args:
        path: the file; relative paths inside it resolve against its folder.

    Returns:
        The validated config, anchored at the file's folder.

    Raises:
        ConfigError: listing every syntax and schema problem found, each with line and column.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(file), 0, 0, "", f"cannot read: {exc.strerror}")]) from exc
    return parse_flows(text, file)


def parse_flows(text: str, file: Path) -> FlowsConfig:
    """Validate flows.yaml `text` read from `file` (used for messages and relative paths)."""
    name = file.name if file.parent.resolve() == Path.cwd() else str(file)
    document, problems = _parse_yaml(text, name)
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        problems.append(Problem(name, 1, 1, "", "the file must be a mapping of settings"))
        raise ConfigError(problems)
    try:
        config = FlowsConfig.model_validate(_plain(document))
    except ValidationError as exc:
        # After a syntax error a line is gone, so "missing" would only echo that error.
        errors = [e for e in exc.errors() if not (problems and e["type"] == "missing")]
        problems.extend(p for error in errors for p in _locate_all(error, document, name))
        raise ConfigError(problems) from exc
    if problems:
        raise ConfigError(problems)
    return config.at(file.parent)


def _parse_yaml(text: str, name: str) -> tuple[Any, list[Problem]]:
    yaml = YAML(typ="rt")
    lines = text.splitlines()
    problems: list[Problem] = []
    while True:
        try:
            return yaml.load("\n".join(lines)), problems
        except MarkedYAMLError as exc:
            mark = exc.problem_mark
            unclosed = "end of stream" in str(exc.problem)
            if exc.context_mark is not None and (mark is None or unclosed):
                mark = exc.context_mark  # an unclosed quote: point at where it opens
            line = mark.line if mark is not None else 0
            problems.append(Problem(name, line + 1, (mark.column + 1) if mark else 1, "",
                                    _yaml_message(exc)))
            if mark is None or len(problems) >= _MAX_SYNTAX_ERRORS or not lines[line].strip():
                return None, problems  # nothing left to blank out: stop here
            lines[line] = ""


def _yaml_message(exc: MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    if exc.context and "stream end" in problem.replace("end of stream", "stream end"):
        problem = f"{exc.context}: {problem}"  # 'while scanning a quoted scalar: ...'
    if "mapping values are not allowed" in problem or "expected <block end>" in problem:
        return f"YAML syntax: {problem} (check the indentation of this line)"
    return f"YAML syntax: {problem}"


def _plain(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists, for pydantic."""
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def _locate_all(error: Any, document: CommentedMap, name: str) -> list[Problem]:
    """Problems for one pydantic error; a `FieldError` may carry several, each with its field."""
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        return [_locate({**error, "loc": (*error["loc"], *loc), "msg": message}, document, name)
                for loc, message in cause.errors]
    return [_locate(error, document, name)]


def _locate(error: Any, document: CommentedMap, name: str) -> Problem:
    """Turn one pydantic error into a Problem at the line of the value (or key) it is about."""
    loc = [part for part in error["loc"] if not _is_union_tag(part)]
    line, column = _position(document, loc, key=error["type"] == "extra_forbidden")
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key" + _suggestion(str(loc[-1]), loc[:-1])
    elif error["type"] == "missing":
        message = "required field is missing"
    elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
        message = f"{message} (got {error['input']!r})"
    return Problem(name, line, column, path, message.removeprefix("Value error, "))


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts e.g. 'function-before[...]' or type names for unions into `loc`.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float"})


def _position(document: CommentedMap, loc: list[Any], key: bool) -> tuple[int, int]:
    """1-based line and column of `loc` in the document, or of its nearest existing parent."""
    node: Any = document
    line, column = 1, 1
    for depth, part in enumerate(loc):
        last = depth == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            row, col = node.lc.key(part) if (key and last) else node.lc.value(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            row, col = node.lc.item(part)
        else:
            break
        line, column = row + 1, col + 1
        node = node[part]
    return line, column


def _suggestion(unknown: str, parent: list[Any]) -> str:
    """' (did you mean ...?)' for a typo'd key, else the keys that are allowed there."""
    model = _model_at(parent)
    if model is None:
        return ""
    close = get_close_matches(unknown, list(model.model_fields), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(model.model_fields)})"


def _model_at(loc: list[Any]) -> type[Strict] | None:
    """The schema class that validates the mapping at `loc`, following field annotations."""
    model: Any = FlowsConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        for inner in list(candidates):
            candidates.extend(typing.get_args(inner))
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, Strict)),
                     None)
        if model is None:
            return None
    return typing.cast(type[Strict], model)
