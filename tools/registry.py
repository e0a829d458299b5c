"""The tool registry of one bot: its HTTP tools (declared in flows.yaml) and Python tools (the
`@tool` functions of its `tools/` folder), called through one function.

`ToolRegistry.call` is the only way a tool runs, for forms and for a model's proposed calls
alike: it refuses tools the caller may not use and arguments outside the tool's schema (an
HTTP tool's `args`, a Python tool's signature) before anything runs, enforces the timeout, and
turns every failure into a `ToolResult` the caller can answer politely, with the error
logged. `check` is the same refusal on its own, for callers that must decide before running
(the agent loop asks the user before a `confirm: true` tool).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.errors import NotFoundError, ToolError
from parley_bot.agents.skills import HttpTool
from parley_bot.tools.http import call_http, check_arguments

log = logging.getLogger("parley.tools")


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gave: data when `ok`, else why not (for the log, not the user)."""

    ok: bool
    data: Any = None
    error: str = ""
    not_found: bool = False
    refused: bool = False
    """The call was turned away before running: a tool the caller may not use, or arguments
    outside its schema."""


class ToolRegistry:
    """Every tool one bot can call, by name."""

    def __init__(self, http: Collection[HttpTool] = (),
                 python: dict[str, BaseTool] | None = None) -> None:
        self._http = {tool.name: tool for tool in http}
        self._python = dict(python or {})

    @classmethod
    def for_bot(cls, config: FlowsConfig) -> ToolRegistry:
        """The tools of `config`: its `tools:` section and its Python tools."""
        return cls(config.tools, config.python_tools)

    @property
    def names(self) -> list[str]:
        return sorted({*self._http, *self._python})

    def parameters(self, name: str) -> set[str]:
        """The argument names tool `name` takes (none for an unknown tool)."""
        if name in self._http:
            return set(self._http[name].args)
        return set(self._python[name].args) if name in self._python else set()

    def confirms(self, name: str) -> bool:
        """Whether tool `name` is declared `confirm: true`: run it only after the user's yes."""
        return name in self._http and self._http[name].confirm

    def describe(self, name: str) -> str:
        """What tool `name` does, in its own description (for a confirmation question)."""
        if name in self._http:
            return self._http[name].description
        return self._python[name].description if name in self._python else name

    def check(self, name: str, args: Any, allowed: Collection[str] | None = None, *,
              strict: bool = True) -> str | None:
        """Why a call may not run, or None when it may: `name` must be a tool the caller is
        `allowed` (None: any tool) and `args` must fit its schema, each value of its type
        when `strict` (a model's JSON); a form's typed-in slots may be converted."""
        if (allowed is not None and name not in allowed) or name not in self.names:
            return f"{name!r} is not a tool this skill may call"
        if not isinstance(args, dict):
            return f"arguments must be an object, got {args!r}"
        try:
            if name in self._http:
                check_arguments(self._http[name], args, strict=strict)
            else:
                tool = self._python[name]
                unknown = sorted(set(args) - set(tool.args))
                if unknown:
                    return f"unknown argument(s) {unknown}"
                schema: Any = tool.get_input_schema()
                schema.model_validate(args, strict=strict)
        except ToolError as exc:
            return str(exc).removeprefix(f"{name}: ")
        except ValidationError as exc:
            return "; ".join(f"argument {'.'.join(map(str, e['loc']))!r}: {e['msg']}"
                             for e in exc.errors())
        return None

    def schemas(self, names: Collection[str]) -> list[dict[str, Any]]:
        """OpenAI-style function schemas of `names`, for a model's `bind_tools`."""
        schemas: list[dict[str, Any]] = []
        for name in names:
            if name in self._python:
                schemas.append(convert_to_openai_tool(self._python[name]))
            elif name in self._http:
                schemas.append(_http_schema(self._http[name]))
        return schemas

    async def call(self, name: str, args: dict[str, Any], *,
                   allowed: Collection[str] | None = None, timeout_s: float | None = None,
                   conversation: str = "", skill: str = "", strict: bool = True
                   ) -> ToolResult:
        """Run one tool call; never raises.

        Args:
            name: the tool.
            args: its arguments, as a form collected them or a model proposed them.
            allowed: the tools the caller may use (an agent skill's `tools`); None for all.
            timeout_s: the caller's deadline, on top of an HTTP tool's own `timeout_s`.
            conversation: the conversation key, and
            skill: the calling skill, both for the log line of a refusal or failure.
            strict: False for a form's slots, whose text may be converted to the tool's
                types; a model's proposed arguments are checked strictly.
        """
        reason = self.check(name, args, allowed, strict=strict)
        if reason is not None:
            return refused(name, reason, skill=skill, conversation=conversation)
        try:
            async with asyncio.timeout(timeout_s):
                data = await self.run(name, args, conversation)
            return ToolResult(ok=True, data=data)
        except NotFoundError as exc:
            log.info("tool found nothing: %s (conversation=%s)", exc, conversation)
            return ToolResult(ok=False, error=str(exc), not_found=True)
        except TimeoutError:
            error = f"{name}: no answer within {timeout_s:g} s"
        except ToolError as exc:
            error = str(exc)
        except Exception as exc:  # a tool's own code may raise anything; the user is told
            error = f"{name}: {type(exc).__name__}: {exc}"
        log.error("tool call failed: %s (conversation=%s)", error, conversation)
        return ToolResult(ok=False, error=error)

    async def run(self, name: str, args: dict[str, Any], conversation: str) -> Any:
        """Run a checked call and return its data. A subclass may answer otherwise (an eval
        gives canned results); `call`'s checks and error handling stay around it.

        Raises:
            ToolError: the call failed (`NotFoundError`: what it asked for does not exist).
        """
        if name in self._http:
            return await call_http(self._http[name], args)
        return await self._python[name].ainvoke(args)


def refused(name: str, reason: str, *, skill: str, conversation: str) -> ToolResult:
    """Log a refused call (tool, skill, conversation, why) and say it was refused."""
    log.warning("tool call refused: tool=%s skill=%s conversation=%s reason=%s",
                name, skill or "-", conversation or "-", reason)
    return ToolResult(ok=False, error=reason, refused=True)


def _http_schema(tool: HttpTool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, arg in tool.args.items():
        schema: dict[str, Any] = {"type": arg.type}
        if arg.description:
            schema["description"] = arg.description
        if arg.enum:
            schema["enum"] = arg.enum
        if arg.pattern:
            schema["pattern"] = arg.pattern
        properties[name] = schema
    required = [name for name, arg in tool.args.items() if arg.required]
    return {"type": "function", "function": {
        "name": tool.name, "description": tool.description,
        "parameters": {"type": "object", "properties": properties, "required": required}}}
