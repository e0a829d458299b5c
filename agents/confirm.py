"""Confirmation of side-effecting tools (`confirm: true`): the agent loop stops before such a
call and asks yes or no (buttons, where the channel has them); the call waits in the
checkpointed state (`TurnState.pending`), so the answer may reach any worker process.

The confirm step of the intake node (`agents.intake`) runs before small talk and routing: a
yes sends the turn to the agent skill, which runs the call and lets its model finish; a no
cancels politely; anything else drops the pending call and is handled as a new message, so a
stale call never runs on a later 'yes' (nor one whose skill a reload has taken away).
"""

from __future__ import annotations

import logging
import re

from parley_bot.agents.config import BotTexts, FlowsConfig
from parley_bot.agents.skills import AgentSkill
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import Button

log = logging.getLogger("parley.agent")

YES = "yes"
NO = "no"
"""The values of the confirmation buttons (what a tap sends as the next message)."""

_YES = {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed",
        "proceed", "sí", "si", "vale", "claro", "ja", "jawohl", "genau", "oui", "ouais",
        "sim", "certo", "tak", "да", "конечно", "evet", "tamam", "はい"}
_NO = {"no", "n", "nope", "nah", "cancel", "stop", "don't", "dont", "nein", "non", "não",
       "nao", "cancelar", "abbrechen", "annuler", "annulla", "nie", "anuluj", "нет", "отмена",
       "hayır", "hayir", "iptal", "いいえ"}
_CJK_YES = ("是", "好", "可以", "确认", "对", "行")
_CJK_NO = ("不", "否", "取消", "别", "キャンセル")
_MAX_WORDS = 5  # "yes please go ahead"; a longer message is a new request


def answer_of(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else, in the common languages: the
    first word decides ('yes please', 'no thanks'), in a short message only."""
    words = re.findall(r"[\w'’]+", text.lower().replace("’", "'"))
    if not words or len(words) > _MAX_WORDS:
        return None
    if words[0] in _NO:
        return False
    if words[0] in _YES:
        return True
    first = text.strip()
    if len(first) <= 6:
        if first.startswith(_CJK_NO):
            return False
        if first.startswith(_CJK_YES):
            return True
    return None


def confirm_buttons(texts: BotTexts, language: str | None) -> tuple[Button, Button]:
    """The yes and no buttons, labelled in the conversation's language."""
    return (Button(label=localize(texts.confirm_yes, language), value=YES),
            Button(label=localize(texts.confirm_no, language), value=NO))


def confirm_node(config: FlowsConfig) -> Node:
    """Build the intake step that takes the user's answer to a pending tool call."""
    texts = config.texts

    async def confirm(state: TurnState) -> TurnState:
        pending = state.get("pending")
        if pending is None:
            return {}
        said = answer_of(state["inbound"].text)
        tool = pending["calls"][0]["name"]
        conversation = state["inbound"].key
        if said is None or not isinstance(config.skill(pending["skill"]), AgentSkill):
            log.info("tool call not confirmed, dropped: tool=%s skill=%s conversation=%s",
                     tool, pending["skill"], conversation)
            return {"pending": None}
        if said:
            return {"skill": pending["skill"], "confirmed": True}
        log.info("tool call cancelled by the user: tool=%s skill=%s conversation=%s",
                 tool, pending["skill"], conversation)
        return {"pending": None, "skill": pending["skill"],
                "draft": Draft(text=localize(texts.confirm_cancelled, state.get("language")))}

    return confirm
