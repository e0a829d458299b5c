"""Read flows.yaml into a `FlowsConfig` (and other YAML files, such as eval sets, into their
schemas), reporting every problem with its line and column.

YAML syntax errors stop a normal parser at the first one. To report them all together with
the schema errors behind them, a line the parser rejects is blanked (line numbers stay put)
and the text parsed again, up to a bound; the document that survives is then validated.
"""

from __future__ import annotations

import typing
from difflib import get_close_matches
from pathlib import Path
from types import UnionType
from typing import Any, TypeGuard, Union

from pydantic import BaseModel, Tag, TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from parley_bot.agents.config import FieldError, FlowsConfig
from parley_bot.agents.errors import ConfigError, Problem
from parley_bot.tools.python import load_python_tools

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
    problems: list[Problem] = []
    try:
        python_tools = load_python_tools(file.parent / "tools")
    except ConfigError as exc:
        problems.extend(exc.problems)
        python_tools = None  # unknown: tool references are not checked this time
    context = {"python_tools": set(python_tools)} if python_tools is not None else None
    config: FlowsConfig = parse_document(text, file, FlowsConfig, context=context,
                                         problems=problems)
    return config.at(file.parent, python_tools)


def parse_document(text: str, file: Path, schema: Any, *, context: dict[str, Any] | None = None,
                   problems: list[Problem] | None = None) -> Any:
    """Validate the YAML `text` of `file` against `schema` (a pydantic model, or a type such
    as `list[Model]`), every problem located at its line and column.

    Args:
        context: passed to the validators (what other files define).
        problems: found before (they are reported together with these).

    Raises:
        ConfigError: listing every syntax and schema problem.
    """
    name = file.name if file.parent.resolve() == Path.cwd() else str(file)
    document, syntax = _parse_yaml(text, name)
    problems = [*syntax, *(problems or [])]
    listing = typing.get_origin(schema) is list
    shape, what = (CommentedSeq, "a list") if listing else (CommentedMap, "a mapping of settings")
    if document is None:
        document = shape()
    if not isinstance(document, shape):
        problems.append(Problem(name, 1, 1, "", f"the file must be {what}"))
        raise ConfigError(problems)
    try:
        value = TypeAdapter(schema).validate_python(_plain(document), context=context)
    except ValidationError as exc:
        # After a syntax error a line is gone, so "missing" would only echo that error.
        errors = [e for e in exc.errors() if not (problems and e["type"] == "missing")]
        problems.extend(p for error in errors for p in _locate_all(error, document, name, schema))
        raise ConfigError(problems) from exc
    if problems:
        raise ConfigError(problems)
    return value


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


def _locate_all(error: Any, document: Any, name: str, schema: Any) -> list[Problem]:
    """Problems for one pydantic error; a `FieldError` may carry several, each with its field."""
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        return [_locate({**error, "loc": (*error["loc"], *loc), "msg": message}, document, name,
                        schema) for loc, message in cause.errors]
    return [_locate(error, document, name, schema)]


def _locate(error: Any, document: Any, name: str, schema: Any) -> Problem:
    """Turn one pydantic error into a Problem at the line of the value (or key) it is about."""
    loc, _ = _walk(error["loc"], schema)
    message = error["msg"]
    kind = error["type"]
    if kind == "union_tag_invalid":  # a skill's `kind` that no class answers to
        tags = [t.strip("'") for t in error["ctx"]["expected_tags"].split(", ")]
        loc = [*loc, "kind"]
        message = f"unknown kind {error['ctx']['tag']!r}" + _suggestion(error["ctx"]["tag"], tags)
    line, column = _position(document, loc, key=kind == "extra_forbidden")
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    if kind == "extra_forbidden":
        _, parent = _walk(error["loc"][:-1], schema)
        fields = list(parent.model_fields) if _is_model(parent) else []
        message = "unknown key" + _suggestion(str(loc[-1]), fields)
    elif kind == "missing":
        message = "required field is missing"
    elif "input" in error and kind not in ("value_error", "assertion_error", "union_tag_invalid"):
        message = f"{message} (got {error['input']!r})"
    return Problem(name, line, column, path, message.removeprefix("Value error, "))


def _position(document: Any, loc: list[Any], key: bool) -> tuple[int, int]:
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


def _suggestion(unknown: str, known: list[str]) -> str:
    """' (did you mean ...?)' for a typo, else what is allowed there."""
    if not known:
        return ""
    close = get_close_matches(unknown, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(known)})"


def _walk(loc: tuple[Any, ...] | list[Any], schema: Any) -> tuple[list[Any], Any]:
    """Follow a pydantic error location through the schema.

    pydantic puts the label of a union member into `loc` (a skill's kind, 'str' or
    'function-before[...]'); those are dropped, and a discriminated union continues in the
    member its tag names, so the fields (and suggestions) are that member's.

    Returns:
        The location as written in flows.yaml, and the type found at its end.
    """
    clean: list[Any] = []
    current: Any = schema
    for part in loc:
        members = _members(current)
        tags = _tags(current)
        if isinstance(part, str) and part in tags:
            current = tags[part]
            continue
        model = next((m for m in members if _is_model(m)), None)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            current = _field_type(model, part)
        elif isinstance(part, int):
            current = next((typing.get_args(m)[0] for m in members
                            if typing.get_origin(m) is list and typing.get_args(m)), None)
        elif isinstance(part, str) and _is_member_label(part):
            continue
        else:
            current = next((typing.get_args(m)[1] for m in members
                            if typing.get_origin(m) is dict and typing.get_args(m)), None)
        clean.append(part)
    return clean, current


def _field_type(model: type[BaseModel], name: str) -> Any:
    field = model.model_fields[name]
    if field.discriminator is not None or field.metadata:
        return typing.Annotated[(field.annotation, *field.metadata)]
    return field.annotation


def _members(annotation: Any) -> list[Any]:
    """The types an annotation may hold: itself, or the members of its union."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (Union, UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def _tags(annotation: Any) -> dict[str, Any]:
    """Tag → member class of a discriminated union (members marked with `Tag`)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    tags: dict[str, Any] = {}
    if typing.get_origin(annotation) in (Union, UnionType):
        for arg in typing.get_args(annotation):
            if typing.get_origin(arg) is typing.Annotated:
                inner, *meta = typing.get_args(arg)
                tags.update({m.tag: inner for m in meta if isinstance(m, Tag)})
    return tags


def _is_member_label(part: str) -> bool:
    # pydantic's names of plain union members: 'str', 'dict[str,str]', 'function-before[...]'.
    return "[" in part or part in {"str", "int", "float", "bool", "list", "dict", "none"}


def _is_model(value: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(value, type) and issubclass(value, BaseModel)
