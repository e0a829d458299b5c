"""Small talk, built in: greetings, thanks, goodbyes and 'what can you do?' get a short reply of
the bot's own (`texts:` in flows.yaml), without a skill and without searching the documents.

A message is small talk only when all of it is: 'thanks a lot!' is, 'thanks, and how long do
returns take?' is a question and goes on to the skills and documents. Phrases are matched
without case, accents or punctuation, so 'Merci beaucoup !' and 'dziekuje' count too. The
phrase lists cover the languages the default replies are written in, and a few more.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

import regex

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.texts import localize

Intent = Literal["greeting", "thanks", "goodbye", "capabilities"]

_PHRASES: dict[Intent | None, str] = {
    "greeting": (
        "hi|hello|hey|hiya|howdy|greetings|good morning|good afternoon|good evening|"
        "hola|buenos dias|buenas tardes|buenas noches|buenas|hallo|guten tag|guten morgen|"
        "guten abend|servus|moin|bonjour|bonsoir|salut|coucou|ola|oi|bom dia|boa tarde|"
        "boa noite|ciao|buongiorno|buonasera|salve|czesc|dzien dobry|witam|hej|привет|"
        "здравствуйте|здравствуй|добрый день|доброе утро|добрый вечер|привіт|добрий день|"
        "merhaba|selam|gunaydın|iyi gunler|iyi aksamlar|你好|您好|嗨|早上好|晚上好|大家好|"
        "こんにちは|おはよう|おはようございます|こんばんは|안녕하세요|안녕|مرحبا|السلام عليكم|"
        "اهلا|नमस्ते|hoi|goedemorgen|goedemiddag|hejsan"
    ),
    "thanks": (
        "thanks|thank you|thx|ty|cheers|much appreciated|thanks for your help|"
        "thank you for your help|thanks for the help|gracias|muchas gracias|danke|"
        "vielen dank|danke schon|dankeschon|merci|merci beaucoup|obrigado|obrigada|valeu|"
        "grazie|grazie mille|dziekuje|dzieki|спасибо|благодарю|большое спасибо|дякую|"
        "tesekkurler|tesekkur ederim|sagol|sag ol|谢谢|谢谢你|多谢|感谢|ありがとう|"
        "ありがとうございます|감사합니다|고맙습니다|شكرا|bedankt|dank je|dank u|tack"
    ),
    "goodbye": (
        "bye|goodbye|good bye|bye bye|see you|see you later|see ya|farewell|"
        "have a nice day|have a good day|adios|hasta luego|hasta pronto|chao|tschuss|tschus|"
        "auf wiedersehen|bis bald|au revoir|a bientot|bonne journee|tchau|adeus|ate logo|"
        "ate mais|arrivederci|a presto|do widzenia|do zobaczenia|na razie|pa|пока|"
        "до свидания|всего доброго|hosca kal|hoscakal|gorusuruz|gule gule|再见|拜拜|"
        "さようなら|またね|じゃあね|안녕히 계세요|doei|tot ziens|hej da"
    ),
    "capabilities": (
        "what can you do|what do you do|what can i ask|what can i ask you|help|"
        "what can you help with|what can you help me with|how can you help|"
        "how can you help me|what do you know|who are you|what are you|"
        "que puedes hacer|en que me puedes ayudar|ayuda|was kannst du|was kannst du tun|"
        "was konnen sie|hilfe|que peux tu faire|que pouvez vous faire|aide|"
        "o que voce pode fazer|ajuda|cosa puoi fare|aiuto|co potrafisz|co mozesz zrobic|"
        "w czym mozesz pomoc|pomoc|что ты умеешь|что вы умеете|помощь|ne yapabilirsin|"
        "neler yapabilirsin|yardım|你能做什么|你会什么|帮助|何ができますか|ヘルプ"
    ),
    # Words that may surround the phrases above without making the message more than that.
    None: (
        "there|all|everyone|everybody|again|so|much|very|a|lot|you|guys|folks|team|ok|okay|"
        "great|perfect|awesome|then|and|oh|well|please|me|muy|bien|tout"
    ),
}
_MARKS = regex.compile(r"[\p{Mn}\p{P}\p{S}]+")


def _normalize(text: str) -> list[str]:
    """Words without case, accents, punctuation or emoji."""
    return _MARKS.sub(" ", unicodedata.normalize("NFKD", text).casefold()).split()


_TABLE: dict[tuple[str, ...], Intent | None] = {
    tuple(_normalize(phrase)): intent
    for intent, phrases in _PHRASES.items() for phrase in phrases.split("|")
}
_LONGEST = max(len(words) for words in _TABLE)


def recognize(text: str) -> Intent | None:
    """The small-talk intent of `text`, or None when it is (also) anything else."""
    words = _normalize(text)
    if not words or len(words) > 3 * _LONGEST:
        return None
    found: list[Intent] = []
    at = 0
    while at < len(words):
        for size in range(min(_LONGEST, len(words) - at), 0, -1):
            key = tuple(words[at:at + size])
            if key in _TABLE:
                intent = _TABLE[key]
                if intent is not None:
                    found.append(intent)
                at += size
                break
        else:
            return None  # a word that is not small talk: a question to answer
    if "capabilities" in found:
        return "capabilities"
    return found[-1] if found else None


def capabilities(config: FlowsConfig, language: str | None) -> list[str]:
    """What the bot can help with, one line each: its skills' descriptions (or names).

    Args:
        config: the bot.
        language: the conversation's language (for texts given per language).
    """
    del language  # skill descriptions are one text for now; the signature is the seam
    return [skill.description or skill.name.replace("_", " ").capitalize()
            for skill in config.skills]


def reply(config: FlowsConfig, intent: Intent, language: str | None) -> str:
    """The bot's reply to small talk, in `language` where flows.yaml gives it."""
    texts = config.texts
    if intent != "capabilities":
        return localize(getattr(texts, intent), language)
    topics = capabilities(config, language)
    if not topics:
        return localize(texts.capabilities_general, language)
    return localize(texts.capabilities, language, topics="\n".join(f"- {t}" for t in topics))


def smalltalk_node(config: FlowsConfig) -> Node:
    """Build the node that answers small talk at once (the graph then skips to respond)."""

    async def smalltalk(state: TurnState) -> TurnState:
        intent = recognize(state["inbound"].text)
        if intent is None:
            return {}
        return {"draft": Draft(text=reply(config, intent, state.get("language")))}

    return smalltalk
