"""Small talk, built in: greetings, thanks, goodbyes and 'what can you do?' get a short reply of
the bot's own (`texts:` in flows.yaml), without a skill and without searching the documents.

A message is small talk only when all of it is: 'thanks a lot!' is, 'thanks, and how long do
returns take?' is a question and goes on to the skills and documents. Phrases are matched
without case, accents or punctuation, so 'Merci beaucoup !' and 'dziekuje' count too. The
phrase lists cover the languages the default replies are written in, and a few more; a phrase
of one language ('danke') also sets the conversation's language, which a detector cannot
tell from so few letters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import regex

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.scope import skill_topics
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.texts import localize

Intent = Literal["greeting", "thanks", "goodbye", "capabilities"]

# Phrases by intent and language ('*': words of no one language).
_PHRASES: dict[Intent, dict[str, str]] = {
    "greeting": {
        "en": "hi|hello|hey|hiya|howdy|greetings|good morning|good afternoon|good evening",
        "es": "hola|buenos dias|buenas tardes|buenas noches|buenas",
        "de": "hallo|guten tag|guten morgen|guten abend|servus|moin",
        "fr": "bonjour|bonsoir|coucou", "pt": "ola|oi|bom dia|boa tarde|boa noite",
        "it": "ciao|buongiorno|buonasera|salve", "pl": "czesc|dzien dobry|witam|siema",
        "ru": "привет|здравствуйте|здравствуй|добрый день|доброе утро|добрый вечер",
        "uk": "привіт|добрий день", "tr": "merhaba|selam|gunaydın|iyi gunler|iyi aksamlar",
        "zh": "你好|您好|嗨|早上好|晚上好|大家好",
        "ja": "こんにちは|おはよう|おはようございます|こんばんは", "ko": "안녕하세요|안녕",
        "ar": "مرحبا|السلام عليكم|اهلا", "hi": "नमस्ते", "nl": "hoi|goedemorgen|goedemiddag",
        "sv": "hejsan", "*": "hej|salut",
    },
    "thanks": {
        "en": "thanks|thank you|thx|ty|cheers|much appreciated|thanks for your help|"
              "thank you for your help|thanks for the help",
        "es": "gracias|muchas gracias", "de": "danke|vielen dank|danke schon|dankeschon",
        "fr": "merci|merci beaucoup", "pt": "obrigado|obrigada|valeu",
        "it": "grazie|grazie mille", "pl": "dziekuje|dzieki",
        "ru": "спасибо|благодарю|большое спасибо", "uk": "дякую",
        "tr": "tesekkurler|tesekkur ederim|sagol|sag ol", "zh": "谢谢|谢谢你|多谢|感谢",
        "ja": "ありがとう|ありがとうございます", "ko": "감사합니다|고맙습니다", "ar": "شكرا",
        "nl": "bedankt|dank je|dank u", "sv": "tack",
    },
    "goodbye": {
        "en": "bye|goodbye|good bye|bye bye|see you|see you later|see ya|farewell|"
              "have a nice day|have a good day",
        "es": "adios|hasta luego|hasta pronto|chao",
        "de": "tschuss|tschus|auf wiedersehen|bis bald",
        "fr": "au revoir|a bientot|bonne journee", "pt": "tchau|adeus|ate logo|ate mais",
        "it": "arrivederci|a presto", "pl": "do widzenia|do zobaczenia|na razie",
        "ru": "пока|до свидания|всего доброго", "tr": "hosca kal|hoscakal|gorusuruz|gule gule",
        "zh": "再见|拜拜", "ja": "さようなら|またね|じゃあね", "ko": "안녕히 계세요",
        "nl": "doei|tot ziens", "sv": "hej da",
    },
    "capabilities": {
        "en": "what can you do|what do you do|what can i ask|what can i ask you|help|"
              "what can you help with|what can you help me with|how can you help|"
              "how can you help me|what do you know|who are you|what are you",
        "es": "que puedes hacer|en que me puedes ayudar|ayuda",
        "de": "was kannst du|was kannst du tun|was konnen sie|hilfe",
        "fr": "que peux tu faire|que pouvez vous faire|aide",
        "pt": "o que voce pode fazer|ajuda", "it": "cosa puoi fare|aiuto",
        "pl": "co potrafisz|co mozesz zrobic|w czym mozesz pomoc|pomoc",
        "ru": "что ты умеешь|что вы умеете|помощь",
        "tr": "ne yapabilirsin|neler yapabilirsin|yardım",
        "zh": "你能做什么|你会什么|帮助", "ja": "何ができますか|ヘルプ",
    },
}
# Words that may surround the phrases above without making the message more than small talk.
_FILLER = ("there|all|everyone|everybody|again|so|much|very|a|lot|you|guys|folks|team|ok|okay|"
           "great|perfect|awesome|then|and|oh|well|please|me|muy|bien|tout")
_ACCENTS = regex.compile(r"\p{Mn}+")
_PUNCTUATION = regex.compile(r"[\p{P}\p{S}]+")


def _normalize(text: str) -> list[str]:
    """Words without case, accents, punctuation or emoji."""
    bare: str = _ACCENTS.sub("", unicodedata.normalize("NFKD", text).casefold())
    spaced: str = _PUNCTUATION.sub(" ", bare)
    return spaced.split()


def _table() -> dict[tuple[str, ...], tuple[Intent | None, str | None]]:
    """Each phrase's words → its intent and language (None: filler, or several languages)."""
    table: dict[tuple[str, ...], tuple[Intent | None, str | None]] = {
        tuple(_normalize(w)): (None, None) for w in _FILLER.split("|")}
    for intent, languages in _PHRASES.items():
        for language, phrases in languages.items():
            for phrase in phrases.split("|"):
                key = tuple(_normalize(phrase))
                known = table.get(key)
                shared = language == "*" or (known is not None and known[1] != language)
                table[key] = (intent, None if shared else language)
    return table


_TABLE = _table()
_LONGEST = max(len(words) for words in _TABLE)


@dataclass(frozen=True)
class SmallTalk:
    """What a message of small talk is: its intent, and its language when the words tell."""

    intent: Intent
    language: str | None


def recognize(text: str) -> SmallTalk | None:
    """The small talk `text` is, or None when it is (also) anything else."""
    words = _normalize(text)
    if not words or len(words) > 3 * _LONGEST:
        return None
    found: list[tuple[Intent, str | None]] = []
    at = 0
    while at < len(words):
        for size in range(min(_LONGEST, len(words) - at), 0, -1):
            entry = _TABLE.get(tuple(words[at:at + size]))
            if entry is not None:
                if entry[0] is not None:
                    found.append((entry[0], entry[1]))
                at += size
                break
        else:
            return None  # a word that is not small talk: a question to answer
    if not found:
        return None
    intents = [intent for intent, _ in found]
    languages = {language for _, language in found}
    intent = "capabilities" if "capabilities" in intents else intents[-1]
    return SmallTalk(intent, languages.pop() if len(languages) == 1 else None)


def reply(config: FlowsConfig, intent: Intent, language: str | None) -> str:
    """The bot's reply to small talk, in `language` where flows.yaml gives it."""
    texts = config.texts
    if intent != "capabilities":
        return localize(getattr(texts, intent), language)
    topics = skill_topics(config)
    if not topics:
        return localize(texts.capabilities_general, language)
    return localize(texts.capabilities, language, topics="\n".join(f"- {t}" for t in topics))


def smalltalk_node(config: FlowsConfig) -> Node:
    """Build the intake step that answers small talk at once (the turn then goes to respond)."""

    async def smalltalk(state: TurnState) -> TurnState:
        found = recognize(state["inbound"].text)
        if found is None:
            return {}
        # 'danke' says German more surely than a detector can from five letters.
        language = found.language or state.get("language")
        update: TurnState = {"draft": Draft(text=reply(config, found.intent, language))}
        if language != state.get("language"):
            update["language"] = language
        return update

    return smalltalk
