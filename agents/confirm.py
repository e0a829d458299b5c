"""Confirmation of side-effecting tools (`confirm: true`): the agent loop stops before such a
call and asks yes or no (buttons, where the channel has them); the call waits in the
checkpointed state (`TurnState.pending`), so the answer may reach any worker process.

The confirm step of the intake node (`agents.intake`) runs before small talk and routing: a
yes sends the turn to the agent skill, which runs the call and lets its model finish; a no
cancels politely; anything else drops the pending call and is handled as a new message, so a
stale call never runs on a later 'yes' (nor one whose skill a reload has taken away, nor one
asked more than `PENDING_TTL_S` ago). Only the user who was asked can answer: another
participant's message (a Slack channel, a group chat) is never an answer; it is handled as a
new message of theirs.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata

from parley_bot.agents.config import BotTexts, FlowsConfig
from parley_bot.agents.skills import AgentSkill
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import Button

log = logging.getLogger("parley.agent")

YES = "yes"
NO = "no"
"""The values of the confirmation buttons (what a tap sends as the next message)."""
PENDING_TTL_S = 600.0
"""How long a question stays answerable: a yes much later may no longer mean this call (the
order may have changed meanwhile), so it runs nothing and the message is read afresh."""

_YES = {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed",
        "proceed", "go ahead", "do it", "no problem", "of course", "sure thing", "yes sure",
        "sí", "si", "vale", "claro", "adelante", "hazlo", "por supuesto", "de acuerdo",
        "ja", "jawohl", "genau", "klar", "mach das", "oui", "ouais", "d'accord", "vas-y",
        "allez-y", "bien sûr", "sim", "certo", "pode", "claro que sim", "va bene", "procedi",
        "tak", "да", "конечно", "давай", "evet", "tamam", "はい"}
_NO = {"no", "n", "nope", "nah", "cancel", "stop", "don't", "dont", "nein", "non", "não",
       "nao", "cancelar", "abbrechen", "annuler", "annulla", "nie", "anuluj", "нет", "отмена",
       "hayır", "hayir", "iptal", "いいえ", "not now", "no way", "lieber nicht"}
_POLITE = {"please", "thanks", "thank you", "thx", "pls", "por favor", "gracias", "bitte",
           "danke", "s'il vous plaît", "merci", "obrigado", "obrigada", "grazie", "per favore",
           "proszę", "dziękuję", "пожалуйста", "спасибо", "lütfen", "teşekkürler", "お願いします"}
"""What may stand beside a yes or a no and leave it one: a courtesy, nothing that asks or
adds (a number, 'but', 'wait', 'which')."""
_CJK_YES = {"是", "是的", "好", "好的", "好啊", "可以", "可以的", "确认", "确定", "对", "对的",
            "行", "はい", "お願いします"}
_CJK_NO = {"不", "不要", "不是", "不用", "不行", "否", "取消", "别", "算了", "キャンセル",
           "いいえ"}
_LONGEST = max(phrase.count(" ") + 1 for phrase in _YES | _NO | _POLITE)


def answer_of(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else, in the common languages.

    Only a plain answer counts: the button's value, or yes (no) words with courtesies
    ('yes please, go ahead', 'no thanks'). A question ('confirm?', 'ok, which order?'),
    anything more ('yes, cancel 99999 instead', 'ja, aber nicht diese'), or yes and no
    together ('ok no') is not an answer, so the call waiting for it does not run.
    """
    said = unicodedata.normalize("NFKC", text).casefold().replace("’", "'").strip()
    if not said or "?" in said:
        return None
    whole = re.sub(r"[\s.!,~。！，、…]+", "", said)
    if whole in _CJK_YES:
        return True
    if whole in _CJK_NO:
        return False
    words = re.findall(r"[\w'-]+", said)
    if re.sub(r"[\w'\s.!,~。！，、…-]+", "", said):  # a symbol, a bracket, an emoji…
        return None
    kinds, i = set(), 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + size])
            kind = ("yes" if phrase in _YES else "no" if phrase in _NO
                    else "polite" if phrase in _POLITE else None)
            if kind is not None:
                kinds.add(kind)
                i += size
                break
        else:
            return None
    if kinds >= {"yes", "no"} or not kinds & {"yes", "no"}:
        return None
    return "yes" in kinds


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
        inbound = state["inbound"]
        tool, conversation = pending["calls"][0]["name"], inbound.key
        expired = time.time() - pending.get("asked_at", 0.0) > PENDING_TTL_S
        if inbound.user_id != pending.get("user") and not expired:
            log.info("tool call waits for the user who was asked, not %s: tool=%s skill=%s "
                     "conversation=%s", inbound.user_id, tool, pending["skill"], conversation)
            return {}
        said = answer_of(inbound.text)
        if said is None or expired or not isinstance(config.skill(pending["skill"]), AgentSkill):
            log.info("tool call not confirmed, dropped%s: tool=%s skill=%s conversation=%s",
                     " (the question expired)" if expired else "", tool, pending["skill"],
                     conversation)
            return {"pending": None}
        if said:
            return {"skill": pending["skill"], "confirmed": True}
        log.info("tool call cancelled by the user: tool=%s skill=%s conversation=%s",
                 tool, pending["skill"], conversation)
        return {"pending": None, "skill": pending["skill"],
                "draft": Draft(text=localize(texts.confirm_cancelled, state.get("language")))}

    return confirm
