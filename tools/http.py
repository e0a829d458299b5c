"""One HTTP tool call: the declaration's templates filled with checked arguments.

Arguments are percent-encoded with nothing left safe ('/', '?', '#', '@' included), so a
value can only ever be one path segment or one query value; '.' and '..' are refused as
values because a server may treat them as path steps. Redirects are not followed: a tool
calls the URL its declaration names, never one a server points it to.
"""

from __future__ import annotations

import json
import os
import re
import string
from typing import Any
from urllib.parse import quote

import httpx

from parley_bot.agents.errors import NotFoundError, ToolError
from parley_bot.agents.skills import ENV_REF, HttpTool

MAX_RESPONSE_CHARS = 20_000  # what a text (non-JSON) response is cut to


def check_arguments(tool: HttpTool, args: dict[str, Any], *,
                    strict: bool = True) -> dict[str, Any]:
    """The arguments checked against their declared types.

    `strict` (a model's proposed JSON): each value must already be of its type (a whole
    number is also taken for a string, as its digits); an object, a list, a boolean for a
    number, a string for a boolean are refused. Not strict (a form's slots, parsed from what
    the user typed): numeric text for a number and 'true'/'false' for a boolean are converted.

    Raises:
        ToolError: an argument is missing, unknown, of the wrong type, or fails its pattern
            or enum.
    """
    unknown = sorted(set(args) - set(tool.args))
    if unknown:
        raise ToolError(f"{tool.name}: unknown argument(s) {unknown}")
    checked: dict[str, Any] = {}
    for name, spec in tool.args.items():
        if name not in args or args[name] is None:
            if spec.required:
                raise ToolError(f"{tool.name}: argument {name!r} is missing")
            continue
        value = _typed(spec.type, args[name], strict)
        if value is None:
            raise ToolError(f"{tool.name}: argument {name!r} should be {spec.type}, "
                            f"got {args[name]!r}")
        if spec.pattern and not re.fullmatch(spec.pattern, str(value)):
            raise ToolError(f"{tool.name}: argument {name!r} does not match {spec.pattern!r}")
        if spec.enum and str(value) not in spec.enum:
            raise ToolError(f"{tool.name}: argument {name!r} must be one of {spec.enum}")
        checked[name] = value
    return checked


def _typed(kind: str, value: Any, strict: bool) -> Any:
    """`value` as a `kind` ('string', 'integer', 'number', 'boolean'), or None if it is not
    one."""
    if isinstance(value, bool):
        return value if kind == "boolean" else None
    if kind == "boolean":
        lowered = str(value).lower() if isinstance(value, str) and not strict else ""
        return {"true": True, "false": False}.get(lowered)
    if kind == "string":
        return str(value) if isinstance(value, str | int) else None
    if isinstance(value, str) and not strict:
        try:
            value = float(value) if kind == "number" else int(value)
        except ValueError:
            return None
    if not isinstance(value, int | float) or value != value or value in (
            float("inf"), float("-inf")):
        return None
    if kind == "integer":
        return int(value) if float(value).is_integer() else None
    return float(value)


def _environment(template: str, tool: HttpTool) -> str:
    def value(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if not found:
            raise ToolError(f"{tool.name}: environment variable {match.group(1)} is not set")
        return found

    return ENV_REF.sub(value, template)


def _segment(value: Any, tool: HttpTool) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if text.strip(".") == "":
        raise ToolError(f"{tool.name}: {text!r} is not allowed as a URL value")
    return quote(text, safe="")


def build_url(tool: HttpTool, args: dict[str, Any]) -> str:
    """The request URL: environment first, then each `{argument}` percent-encoded."""
    base = _environment(tool.url, tool)
    values = {name: _segment(args.get(name, ""), tool)
              for name in {f for _, f, _, _ in string.Formatter().parse(base) if f}}
    return base.format(**values)


def _body(template: Any, args: dict[str, Any]) -> Any:
    """The JSON body: '{arg}' alone becomes the typed value; inside text, its text."""
    if isinstance(template, str):
        whole = re.fullmatch(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template)
        if whole:
            return args.get(whole.group(1))
        return template.format(**{k: "" if v is None else v for k, v in args.items()})
    if isinstance(template, dict):
        return {key: _body(value, args) for key, value in template.items()}
    if isinstance(template, list):
        return [_body(value, args) for value in template]
    return template


def keep_fields(data: Any, paths: list[str] | None) -> Any:
    """Only the `paths` of `data` (dotted; through lists, applied to each item)."""
    if paths is None:
        return data
    kept: dict[str, Any] = {}
    for path in paths:
        _copy(data, path.split("."), kept)
    return kept


def _copy(source: Any, parts: list[str], target: dict[str, Any]) -> None:
    if not isinstance(source, dict) or parts[0] not in source:
        return
    value = source[parts[0]]
    if len(parts) == 1:
        target[parts[0]] = value
    elif isinstance(value, list):
        items = target.setdefault(parts[0], [{} for _ in value])
        for item, into in zip(value, items, strict=False):
            _copy(item, parts[1:], into)
    else:
        _copy(value, parts[1:], target.setdefault(parts[0], {}))


async def call_http(tool: HttpTool, args: dict[str, Any]) -> Any:
    """Make the request and return the kept part of its JSON (or text) response.

    Raises:
        NotFoundError: the server answered 404.
        ToolError: anything else went wrong (status, network, timeout, bad arguments).
    """
    checked = check_arguments(tool, args, strict=False)
    url = build_url(tool, checked)
    headers = {name: _environment(value, tool) for name, value in tool.headers.items()}
    body = _body(tool.body, checked) if tool.body is not None else None
    try:
        async with httpx.AsyncClient(timeout=tool.timeout_s, follow_redirects=False) as client:
            response = await client.request(tool.method, url, headers=headers, json=body)
    except httpx.TimeoutException as exc:
        raise ToolError(f"{tool.name}: no answer within {tool.timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise ToolError(f"{tool.name}: {type(exc).__name__}: {exc}") from exc
    if response.status_code == 404:
        raise NotFoundError(f"{tool.name}: not found ({tool.method} {url})")
    if response.status_code >= 300:
        raise ToolError(f"{tool.name}: HTTP {response.status_code} from {tool.method} {url}")
    try:
        data: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:MAX_RESPONSE_CHARS]
    return keep_fields(data, tool.keep)
