"""The form skill: ask for each slot until all are known, then call the tool and reply
through the skill's template. No model is involved, so forms work with `model: extractive`.

Each message may answer the question just asked, give other slots unasked (an e-mail address
is recognisable anywhere; a plain number only when asked), correct an earlier answer by
naming its slot ("no, make that size 44"), or cancel. With `verify`, the user's answer must
match the tool's record before anything from it is shown.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.skills import FormSkill, Slot, templates
from parley_bot.agents.state import Active, Draft, Node, TurnState
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import Button
from parley_bot.tools.registry import ToolRegistry

log = logging.getLogger("parley.form")

Value = str | int | float

CANCEL = frozenset({
    "cancel", "stop", "quit", "abort", "never mind", "nevermind", "forget it",
    "anuluj", "abbrechen", "cancelar", "annuler", "annulla",
})
"""Messages that end a form (compared lower-case, without trailing punctuation)."""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ().-]{5,}\d")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_FIRST = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")


def is_cancel(text: str) -> bool:
    return text.strip().lower().rstrip(".!") in CANCEL


def takes(form: FormSkill, active: Active, text: str) -> bool:
    """Whether `text` is for the form in progress: a cancel, or a value it can use."""
    if is_cancel(text):
        return True
    filled, _ = fill(form, active, text)
    return filled != active["slots"]


def fill(form: FormSkill, active: Active, text: str) -> tuple[dict[str, Value], bool]:
    """The slots after `text`, and whether it failed to answer the question asked.

    Named slots take their value first (corrections), then the slot asked for, then any
    other missing slot whose value is recognisable on its own.
    """
    values = dict(active["slots"])
    rest = text
    changed: set[str] = set()
    named = [slot for slot in form.slots if _names(slot, text)]
    asked = [slot for slot in form.slots if slot.name == active["asked"]]
    others = [slot for slot in form.slots if slot.name not in values]
    for slot in [*named, *asked, *others]:
        if slot.name in changed:
            continue
        found = extract(slot, rest, whole=slot in asked and slot not in named)
        if found is not None:
            value, matched = found
            values[slot.name] = value
            changed.add(slot.name)
            rest = rest.replace(matched, " ", 1)
    failed = bool(asked) and not changed
    return values, failed


def extract(slot: Slot, text: str, whole: bool) -> tuple[Value, str] | None:
    """The slot's value in `text` and the text it came from, or None.

    Args:
        whole: the message answers this slot's question, so a plain number or a free text
            counts; otherwise only values that are recognisable on their own are taken.
    """
    found = _find(slot, text, whole)
    if found is None:
        return None
    value, matched = found
    if slot.pattern and not re.fullmatch(slot.pattern, str(value)):
        return None
    return value, matched


def _find(slot: Slot, text: str, whole: bool) -> tuple[Value, str] | None:
    if slot.type == "email":
        match = _EMAIL.search(text)
        return (match.group(0), match.group(0)) if match else None
    if slot.type == "phone":
        match = _PHONE.search(text)
        digits = re.sub(r"\D", "", match.group(0)) if match else ""
        if match and 7 <= len(digits) <= 15:
            return ("+" if match.group(0).startswith("+") else "") + digits, match.group(0)
        return None
    if slot.type == "choice":
        hits = [c for c in slot.choices or [] if re.search(rf"\b{re.escape(c)}\b", text, re.I)]
        return (hits[0], hits[0]) if len(hits) == 1 else None
    if slot.type == "date":
        return _date(text)
    if slot.type == "number":
        match = _NUMBER.search(text) if whole or _names(slot, text) else None
        if match is None:
            return None
        number = float(match.group(0).replace(",", "."))
        return (int(number) if number.is_integer() else number), match.group(0)
    if slot.pattern:
        match = re.search(slot.pattern, text)
        return (match.group(0), match.group(0)) if match else None
    stripped = text.strip()
    return (stripped, stripped) if whole and stripped else None


def _date(text: str) -> tuple[Value, str] | None:
    """ISO (2025-05-03), day first (3.5.2025, 3/5/2025), 'today' or 'tomorrow'."""
    lowered = text.lower()
    for word, days in (("today", 0), ("tomorrow", 1)):
        if re.search(rf"\b{word}\b", lowered):
            return (date.today() + timedelta(days=days)).isoformat(), word
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_DAY_FIRST, (2, 1, 0))):
        match = pattern.search(text)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                return date(year, month, day).isoformat(), match.group(0)
            except ValueError:
                return None
    return None


def _names(slot: Slot, text: str) -> bool:
    words = [slot.name.replace("_", " "), *slot.aliases]
    return any(re.search(rf"\b{re.escape(w)}\b", text, re.I) for w in words)


def form_node(config: FlowsConfig, tools: ToolRegistry) -> Node:
    """Build the node that runs every form skill of this bot."""
    texts = config.texts

    async def form(state: TurnState) -> TurnState:
        skill = config.skill(state.get("skill"))
        assert isinstance(skill, FormSkill), "the graph sends only form skills here"
        active = state.get("active") or Active(skill=skill.name, slots={}, asked=None)
        inbound = state["inbound"]
        language = state.get("language")
        if is_cancel(inbound.text):
            return {"draft": Draft(text=localize(texts.form_cancelled, language)),
                    "active": None}
        values, failed = fill(skill, active, inbound.text)
        missing = next((slot for slot in skill.slots if slot.name not in values), None)
        if missing is not None:
            question = localize(missing.question, language)
            if failed:
                asked = next(s for s in skill.slots if s.name == active["asked"])
                question = f"{localize(asked.invalid or texts.slot_invalid, language)} {question}"
            progress = Active(skill=skill.name, slots=values, asked=missing.name)
            choices = tuple(Button(label=c, value=c) for c in missing.choices or ())
            return {"draft": Draft(text=question, buttons=choices), "active": progress}
        wanted = tools.parameters(skill.tool)  # a slot only for proof is not sent
        result = await tools.call(skill.tool, {k: v for k, v in values.items() if k in wanted},
                                  conversation=inbound.key, strict=False)
        if result.ok and not _proven(skill, values, result.data):
            result = result.__class__(ok=False, not_found=True)
        if not result.ok:
            text = texts.not_found if result.not_found else texts.tool_failed
            return {"draft": Draft(text=localize(text, language), fallback=not result.not_found),
                    "active": None}
        try:
            reply = templates.from_string(localize(skill.reply, language)).render(
                **values, result=result.data)
        except Exception:  # the sandbox refused something, or the template has a bug
            log.exception("reply template of form %s failed (conversation=%s)", skill.name,
                          inbound.conversation_id)
            return {"draft": Draft(text=localize(texts.tool_failed, language), fallback=True),
                    "active": None}
        return {"draft": Draft(text=reply.strip()), "active": None}

    return form


def _proven(skill: FormSkill, values: dict[str, Value], data: Any) -> bool:
    """Whether the user's answer matches the record (always, for a form without `verify`)."""
    if skill.verify is None:
        return True
    record: Any = data
    for part in skill.verify.field.split("."):
        record = record.get(part) if isinstance(record, dict) else None
    given = values.get(skill.verify.slot)
    return record is not None and str(record).strip().lower() == str(given).strip().lower()
