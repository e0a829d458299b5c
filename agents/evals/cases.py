"""The schema of an evaluation set (`evals/*.yaml` beside flows.yaml) and its loader.

A file is a list of cases; a case is one conversation (a single question is a one-turn
conversation). Each turn says what the user types and what a right reply does: the skill
that answers it, the tool calls made, and checks on the text. A case may give canned results
for the tools it calls, so an eval needs no external service running.

    - name: return window
      turns:
        - user: how long do I have to return boots?
          skill: returns
          contains: [30 days]
          cites: [returns.md]
          reference: {text: "You have 30 days to return unworn items.", threshold: 0.3}
    - name: order status
      tool_results: {order_lookup: {status: shipped, customer: {email: a@b.example}}}
      turns:
        - {user: where is my order, skill: order_status, tools: []}
        - {user: "10045", skill: order_status}
        - user: a@b.example
          tools: [{name: order_lookup, args: {order_number: "10045"}}]
          contains: [shipped]

Files are read with flows.yaml's loader, so problems come as FILE:LINE:COL: field: message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from parley_bot.agents.config import FlowsConfig, ModelName
from parley_bot.agents.errors import ConfigError, Problem
from parley_bot.agents.flowsfile import parse_document
from parley_bot.agents.schema import Loc, Strict, check, shorthand

NO_SKILL = "none"
"""The expected `skill` of a turn no skill answers: small talk, out of scope, the general
answer from every document."""


class ExpectedCall(Strict):
    """A tool call the turn must make; `args` are matched as given (others may be present)."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)

    _from_string = shorthand("name")


class Reference(Strict):
    """A reference answer: the reply's overlap with it must reach `threshold`."""

    text: str
    metric: Literal["f1", "rougeL"] = Field("f1", description="Token F1 or ROUGE-L (F).")
    threshold: float = Field(0.5, ge=0, le=1)

    _from_string = shorthand("text")


class Judge(Strict):
    """An LLM judge: `model` reads the question, the reply and `rubric`, and says PASS or FAIL."""

    model: ModelName = Field(..., description="A provider:model id, e.g. 'openai:gpt-4o', or the "
                       "name of a model in `eval.models` (with its base_url and key).")
    rubric: str


class EvalTurn(Strict):
    """One user message and what a right reply does. Unset checks are not checked."""

    user: str = Field(..., min_length=1)
    skill: str | None = Field(
        None, description=f"The skill that must answer; '{NO_SKILL}' for no skill.")
    tools: list[ExpectedCall] | None = Field(
        None, description="The tool calls this turn must make ([] for none).")
    contains: list[str] = Field(default_factory=list, description="Each must be in the reply "
                                "(case-insensitive).")
    not_contains: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list, description="Each must match the reply.")
    cites: list[str] = Field(default_factory=list,
                             description="Sources the reply must cite (a file name or URL).")
    reference: Reference | None = None
    judge: Judge | None = None

    @field_validator("contains", "not_contains", "regex", "cites", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """One text for a list of one; numbers as written ('contains: [10045]')."""
        value = [value] if isinstance(value, str | int | float) else value
        return [str(v) if isinstance(v, int | float) else v for v in value] \
            if isinstance(value, list) else value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regex {pattern!r} does not compile: {exc}") from None
        return patterns


class EvalCase(Strict):
    """One conversation of the evaluation set."""

    name: str | None = None
    turns: list[EvalTurn] = Field(..., min_length=1)
    tool_results: dict[str, Any] = Field(
        default_factory=dict, description="Tool name → the result it gives in this case.")

    @field_validator("name")
    @classmethod
    def _unique(cls, name: str | None, info: ValidationInfo) -> str | None:
        """A name is what a case is reported and cached under: once across the set's files
        (the loader passes one `names` set for all of them)."""
        seen = (info.context or {}).get("names")
        if name is not None and seen is not None:
            if name in seen:
                raise ValueError(f"two cases are named {name!r}")
            seen.add(name)
        return name

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> EvalCase:
        """Skills and tools must be the bot's (when the loader says what the bot has)."""
        known = info.context or {}
        skills, tools = known.get("skills"), known.get("tools")
        errors: list[tuple[Loc, str]] = []
        for i, turn in enumerate(self.turns):
            if skills is not None and turn.skill not in (None, NO_SKILL, *skills):
                errors.append((("turns", i, "skill"), f"unknown skill {turn.skill!r} "
                               f"(known: {sorted(skills)} or '{NO_SKILL}')"))
            errors.extend((("turns", i, "tools", j, "name"), f"unknown tool {call.name!r}")
                          for j, call in enumerate(turn.tools or ())
                          if tools is not None and call.name not in tools)
        errors.extend((("tool_results", name), f"unknown tool {name!r}")
                      for name in self.tool_results if tools is not None and name not in tools)
        check(errors)
        return self


class Case(Strict):
    """A loaded case with the id it is reported and cached under: 'file.yaml#3' or its name."""

    id: str
    case: EvalCase


def dataset_files(config: FlowsConfig) -> list[Path]:
    """The eval files `eval.dataset` names: one file, or every *.yaml in a folder (none when
    the default folder does not exist: a bot need not have an eval set)."""
    path = config.path(config.eval.dataset)
    if not path.exists() and "dataset" not in config.eval.model_fields_set:
        return []
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path]


def load_cases(config: FlowsConfig, files: list[Path] | None = None) -> list[Case]:
    """Load and validate the evaluation set of the bot `config`.

    Args:
        files: instead of the files `eval.dataset` names.

    Raises:
        ConfigError: every problem in every file, each with its line and column.
    """
    context = {"skills": {s.name for s in config.skills},
               "tools": {t.name for t in config.tools} | set(config.python_tools),
               "names": set[str]()}
    cases: list[Case] = []
    problems: list[Problem] = []
    for file in files if files is not None else dataset_files(config):
        try:
            text = file.read_text(encoding="utf-8")
            loaded: list[EvalCase] = parse_document(text, file, list[EvalCase], context=context)
        except OSError as exc:
            problems.append(Problem(str(file), 0, 0, "", f"cannot read: {exc.strerror}"))
            continue
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        cases.extend(Case(id=case.name or f"{file.name}#{n}", case=case)
                     for n, case in enumerate(loaded, 1))
    if problems:
        raise ConfigError(problems)
    return cases


def user_messages(config: FlowsConfig) -> list[str]:
    """Every user message of the bot's eval set, in order (what a screen must let through)."""
    return [turn.user for case in load_cases(config) for turn in case.case.turns]
