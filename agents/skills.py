"""The `skills:` and `tools:` sections of flows.yaml.

A skill is one of several kinds, told apart by its `kind` key (a pydantic discriminated
union; no `kind` means 'answer'):

    answer   retrieve from the documents, then reply (the default)
    form     ask for typed slots, call a tool with them, reply through a Jinja2 template
    agent    the configured model calls the skill's tools in a bounded loop

A hand-off kind joins the union the same way: one more class with its own `kind` literal.

`tools:` declares HTTP tools; Python tools are the `@tool` functions in the bot's `tools/`
folder and need no declaration. A value put into a URL is percent-encoded and may appear only
after `scheme://host/`, so no argument can change where a tool sends its request.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from parley_bot.agents.schema import Loc, Strict, check
from parley_bot.agents.texts import LocalText

NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""`${NAME}`: the value of an environment variable, read when the tool is called."""
_FIELD_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")

templates = SandboxedEnvironment(autoescape=False)
"""The one Jinja2 environment of form replies: sandboxed, so a template can read the values it
is given but reach nothing else in Python."""


class FewShot(Strict):
    """One example exchange shown to the model before the real question."""

    user: str
    assistant: str


class SkillBase(Strict):
    """What every kind of skill has: a name, and what the router and the prompt learn from."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_-]+$")
    description: str = Field(
        "", description="What the skill does, in a few words; the router learns from it, and "
        "the bot lists it when asked something out of scope."
    )
    examples: list[str] = Field(default_factory=list, description="Utterances that mean this.")
    instructions: str = Field("", description="Added to the system prompt for this skill.")
    few_shot: list[FewShot] = Field(default_factory=list)

    def tool_uses(self) -> list[tuple[Loc, str]]:
        """The tools this skill calls, each with the field that names it."""
        return []


class AnswerSkill(SkillBase):
    """Retrieve passages, then reply with a cited answer."""

    kind: Literal["answer"] = Field("answer", description="'answer': retrieve, then reply.")
    knowledge: list[str] | None = Field(
        None, description="Source names this skill may answer from (default: all)."
    )
    template: str | None = Field(
        None, description="Reply template; '{answer}' is replaced by the generated answer."
    )

    @field_validator("template")
    @classmethod
    def _template_fields(cls, template: str | None) -> str | None:
        if template is None:
            return None
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        if fields - {"answer"}:
            raise ValueError(
                f"template may only use {{answer}}, found {sorted(fields - {'answer'})}"
            )
        return template


SlotType = Literal["text", "number", "date", "email", "phone", "choice"]


class Slot(Strict):
    """One value a form asks for."""

    name: str = Field(..., pattern=NAME, description="Also the tool argument it fills.")
    type: SlotType = Field("text", description="text, number, date, email, phone or choice.")
    question: LocalText = Field(..., description="What the bot asks to get this value.")
    pattern: str | None = Field(
        None, description="Regular expression the value must match; it also finds the value "
        "inside a longer message ('where is order A-1234?')."
    )
    choices: list[str] | None = Field(None, description="The allowed values of a 'choice' slot.")
    invalid: LocalText | None = Field(
        None, description="Said when an answer does not fit, before the question is asked "
        "again (default: texts.slot_invalid)."
    )
    aliases: list[str] = Field(
        default_factory=list, description="Words that name this slot in a correction "
        "('no, make that size 44'); the slot's name counts too."
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern

    @model_validator(mode="after")
    def _choices_for_choice(self) -> Slot:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("a 'choice' slot needs 'choices', and only a 'choice' slot has them")
        return self


class Verify(Strict):
    """Proof of identity: the user's answer to `slot` must equal `field` of the tool's result
    before anything from that result is shown. A mismatch is answered like a miss, so guessing
    an order number reveals nothing, not even that the order exists."""

    slot: str = Field(..., description="The slot the user proves it with (e.g. email).")
    field: str = Field(..., description="The result field it must equal (e.g. customer.email).")


class FormSkill(SkillBase):
    """Collect typed slots, call a tool with them, reply through a template. Needs no model."""

    kind: Literal["form"] = Field(..., description="'form': slot filling, then a tool.")
    slots: list[Slot] = Field(..., min_length=1)
    tool: str = Field(..., description="The tool called with the slots once all are filled.")
    verify: Verify | None = None
    reply: LocalText = Field(
        ..., description="Jinja2 template of the answer (sandboxed): the slots by name and "
        "the tool's result as `result`, e.g. 'Order {{ order_number }}: {{ result.status }}'."
    )

    @field_validator("reply")
    @classmethod
    def _reply_compiles(cls, reply: str | dict[str, str]) -> str | dict[str, str]:
        for text in reply.values() if isinstance(reply, dict) else [reply]:
            try:
                templates.parse(text)
            except TemplateSyntaxError as exc:
                message = f"template error on its line {exc.lineno}: {exc.message}"
                raise ValueError(message) from None
        return reply

    @model_validator(mode="after")
    def _slots_known(self) -> FormSkill:
        names = [slot.name for slot in self.slots]
        errors: list[tuple[Loc, str]] = [
            (("slots", i, "name"), f"slot {name!r} is defined twice")
            for i, name in enumerate(names) if name in names[:i]]
        if self.verify is not None and self.verify.slot not in names:
            errors.append((("verify", "slot"), f"unknown slot {self.verify.slot!r} "
                                                f"(slots: {names})"))
        check(errors)
        return self

    def tool_uses(self) -> list[tuple[Loc, str]]:
        return [(("tool",), self.tool)]


class AgentSkill(SkillBase):
    """The configured model calls the skill's tools in a bounded loop, then answers."""

    kind: Literal["agent"] = Field(..., description="'agent': the model uses tools.")
    tools: list[str] = Field(..., min_length=1, description="The tools the model may call.")
    max_steps: int = Field(5, ge=1, le=20, description="Model calls at most, tools between.")
    tool_timeout_s: float = Field(10.0, gt=0, description="Deadline of one tool call.")
    budget_s: float = Field(60.0, gt=0, description="Deadline of the whole skill turn.")
    max_tool_calls_per_turn: int = Field(
        8, ge=1, description="Tool calls one turn may make; further calls are refused.")
    max_tool_calls_per_conversation: int = Field(
        50, ge=1, description="Tool calls of this skill in one conversation (counted in the "
        "store, so across worker processes, for 30 days); further calls are refused.")

    def tool_uses(self) -> list[tuple[Loc, str]]:
        return [(("tools", i), tool) for i, tool in enumerate(self.tools)]


def _skill_kind(value: Any) -> str:
    """The union tag of a skill: its `kind`, 'answer' when it has none."""
    if isinstance(value, dict):
        return str(value.get("kind", "answer"))
    return str(getattr(value, "kind", "answer"))


Skill = Annotated[
    Annotated[AnswerSkill, Tag("answer")]
    | Annotated[FormSkill, Tag("form")]
    | Annotated[AgentSkill, Tag("agent")],
    Discriminator(_skill_kind),
]
"""Any skill; `kind` picks the class, so errors name the fields of the right one."""


class ToolArg(Strict):
    """One argument of a tool, as the model (and the argument check) sees it."""

    type: Literal["string", "number", "integer", "boolean"] = "string"
    description: str = ""
    required: bool = True
    pattern: str | None = Field(None, description="Regular expression a string must match.")
    enum: list[str] | None = Field(None, description="The only values allowed.")


class HttpTool(Strict):
    """A tool that is one HTTP request. Its URL, headers and body are templates: `{arg}` is an
    argument (percent-encoded in the URL), `${NAME}` an environment variable (in the URL and
    headers, so secrets stay out of flows.yaml)."""

    name: str = Field(..., pattern=NAME)
    description: str = Field(..., description="What it does; the model reads this.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(..., description="e.g. '${ORDERS_API}/orders/{order_number}'.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="e.g. {Authorization: 'Bearer ${ORDERS_TOKEN}'}."
    )
    body: dict[str, Any] | None = Field(
        None, description="JSON body; a string that is exactly '{arg}' becomes the typed value."
    )
    args: dict[str, ToolArg] = Field(default_factory=dict)
    timeout_s: float = Field(10.0, gt=0)
    confirm: bool = Field(
        False, description="The tool changes something (cancels, orders, refunds): an agent "
        "skill asks the user yes or no before it runs, and runs it only on a yes. A form "
        "skill may not call it (a form does not ask). Python @tool functions have no confirm: "
        "declare a side-effecting action as an HTTP tool."
    )
    keep: list[str] | None = Field(
        None, description="Response fields to keep, as dotted paths (default: all of it)."
    )

    @field_validator("url")
    @classmethod
    def _arguments_after_the_host(cls, url: str) -> str:
        # A leading ${BASE} stands for scheme://host; other ${NAMES} are plain text here.
        probe = ENV_REF.sub("https://base.invalid", url, count=1) if url.startswith("${") else url
        probe = ENV_REF.sub("env", probe)
        static = probe.split("{", 1)[0]
        if not re.match(r"^https?://[^/?#]+" + ("[/?]" if "{" in probe else ""), static):
            raise ValueError("must start with http://, https:// or ${VARIABLE}, and put "
                             "{arguments} only after the host ('${BASE}/orders/{number}')")
        return url

    @field_validator("keep")
    @classmethod
    def _paths(cls, keep: list[str] | None) -> list[str] | None:
        bad = [path for path in keep or [] if not _FIELD_PATH.match(path)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a dotted field path like 'customer.email'")
        return keep

    @model_validator(mode="after")
    def _placeholders_are_arguments(self) -> HttpTool:
        errors: list[tuple[Loc, str]] = []
        for loc, text in [(("url",), self.url), *((("body",), s) for s in _strings(self.body))]:
            unknown = sorted(argument_names(text) - set(self.args))
            if unknown:
                errors.append((loc, f"unknown argument(s) {unknown} (args: {sorted(self.args)})"))
        for name, value in self.headers.items():
            if argument_names(value):
                errors.append((("headers", name), "headers take ${VARIABLE}s, not {arguments}"))
        check(errors)
        return self


def argument_names(template: str) -> set[str]:
    """The `{argument}` names in a template, leaving out `${ENV}` references."""
    return {f for _, f, _, _ in string.Formatter().parse(ENV_REF.sub("", template)) if f}


def _strings(value: Any) -> list[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
