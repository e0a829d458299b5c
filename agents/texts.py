"""What the bot says on its own (fallback, errors, refusals, form questions), in one language
or several.

Every such text in flows.yaml is a `LocalText`: a plain string, or one string per language
code (`{en: …, pl: …, zh: …}`). `localize` picks the one for the message's language, so a
bot answers a Polish customer's "nie rozumiem" in Polish where the file gives Polish.
Texts may hold `{placeholders}` the caller fills in with `localize(..., **fields)`.
"""

from __future__ import annotations

import re
import string
from typing import Annotated

from pydantic import AfterValidator

DEFAULT_LANGUAGE = "en"
_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError(f"{value!r} is not a language code (like 'en', 'pl', 'pt-BR')")
    return value


LanguageCode = Annotated[str, AfterValidator(_code)]
"""A language code: ISO 639-1 (or 639-3), optionally with a region: 'en', 'pl', 'pt-BR'."""


def _check(value: str | dict[str, str]) -> str | dict[str, str]:
    if isinstance(value, str):
        return value
    if not value:
        raise ValueError("give the text, or at least one language: {en: ...}")
    for code in value:
        _code(code)
    return value


LocalText = Annotated[str | dict[str, str], AfterValidator(_check)]
"""One text, or one per language code; the first language given is the default."""


def localize(text: str | dict[str, str], language: str | None = None, **fields: object) -> str:
    """The text for `language`: an exact match, then its base language ('pt' for 'pt-BR'),
    then English, then the first one given. `fields` fill the text's `{placeholders}`.

    Args:
        text: a `LocalText` from the config.
        language: the message's language code, or None when it is not known.
        fields: values for the text's placeholders; a text without them is returned as is.
    """
    if isinstance(text, dict):
        base = language.split("-")[0] if language else None
        for code in (language, base, DEFAULT_LANGUAGE):
            if code is not None and code in text:
                text = text[code]
                break
        else:
            text = next(iter(text.values()))
    assert isinstance(text, str)
    return text.format(**fields) if fields else text


def placeholders(text: str | dict[str, str]) -> set[str]:
    """The `{names}` a text uses, in any of its languages (for config checks)."""
    variants = text.values() if isinstance(text, dict) else [text]
    return {f for v in variants for _, f, _, _ in string.Formatter().parse(v) if f}


# The defaults of the bot's small-talk texts, in the languages most customers write in; a
# language missing here falls back to English (`localize`).
SMALL_TALK: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hello! How can I help you today?",
        "es": "¡Hola! ¿En qué puedo ayudarte?",
        "de": "Hallo! Wie kann ich helfen?",
        "fr": "Bonjour ! Comment puis-je vous aider ?",
        "pt": "Olá! Como posso ajudar?",
        "it": "Ciao! Come posso aiutarti?",
        "pl": "Dzień dobry! W czym mogę pomóc?",
        "ru": "Здравствуйте! Чем могу помочь?",
        "tr": "Merhaba! Size nasıl yardımcı olabilirim?",
        "zh": "您好！有什么可以帮您？",
        "ja": "こんにちは！ご用件をお聞かせください。",
    },
    "thanks": {
        "en": "You're welcome! Anything else I can help with?",
        "es": "¡De nada! ¿Puedo ayudarte en algo más?",
        "de": "Gern geschehen! Kann ich sonst noch helfen?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "pt": "De nada! Posso ajudar em mais alguma coisa?",
        "it": "Prego! Posso aiutarti in qualcos'altro?",
        "pl": "Nie ma za co! Czy mogę pomóc w czymś jeszcze?",
        "ru": "Пожалуйста! Могу ли я помочь чем-то ещё?",
        "tr": "Rica ederim! Başka bir konuda yardımcı olabilir miyim?",
        "zh": "不客气！还有什么可以帮您？",
        "ja": "どういたしまして！ほかにお手伝いできることはありますか？",
    },
    "goodbye": {
        "en": "Goodbye, and thanks for getting in touch!",
        "es": "¡Adiós, y gracias por escribirnos!",
        "de": "Auf Wiedersehen, und danke für Ihre Nachricht!",
        "fr": "Au revoir, et merci de nous avoir écrit !",
        "pt": "Até logo, e obrigado pelo contato!",
        "it": "Arrivederci, e grazie per averci scritto!",
        "pl": "Do widzenia i dziękujemy za kontakt!",
        "ru": "До свидания, спасибо, что обратились!",
        "tr": "Hoşça kalın, bize yazdığınız için teşekkürler!",
        "zh": "再见，感谢您的来信！",
        "ja": "ご連絡ありがとうございました。さようなら！",
    },
    "capabilities": {
        "en": "I can help with:\n{topics}",
        "es": "Puedo ayudarte con:\n{topics}",
        "de": "Ich kann Ihnen bei Folgendem helfen:\n{topics}",
        "fr": "Je peux vous aider pour :\n{topics}",
        "pt": "Posso ajudar com:\n{topics}",
        "it": "Posso aiutarti con:\n{topics}",
        "pl": "Mogę pomóc w tych sprawach:\n{topics}",
        "ru": "Я могу помочь с этим:\n{topics}",
        "tr": "Şu konularda yardımcı olabilirim:\n{topics}",
        "zh": "我可以帮您处理：\n{topics}",
        "ja": "次のことをお手伝いできます：\n{topics}",
    },
    "capabilities_general": {
        "en": "Ask me a question, and I will answer from the documents I know.",
        "es": "Hazme una pregunta y te responderé con los documentos que conozco.",
        "de": "Stellen Sie mir eine Frage, ich antworte aus den Dokumenten, die ich kenne.",
        "fr": "Posez-moi une question, je réponds à partir des documents que je connais.",
        "pt": "Faça uma pergunta e eu respondo com base nos documentos que conheço.",
        "it": "Fammi una domanda e ti rispondo con i documenti che conosco.",
        "pl": "Zadaj mi pytanie, a odpowiem na podstawie dokumentów, które znam.",
        "ru": "Задайте вопрос, и я отвечу по документам, которые знаю.",
        "tr": "Bana bir soru sorun, bildiğim belgelere göre yanıtlayayım.",
        "zh": "请提问，我会根据我所知道的文档回答。",
        "ja": "ご質問ください。知っている文書をもとにお答えします。",
    },
}

# The default labels of a confirmation's buttons (`BotTexts.confirm_yes`, `confirm_no`).
BUTTONS: dict[str, dict[str, str]] = {
    "yes": {"en": "Yes", "es": "Sí", "de": "Ja", "fr": "Oui", "pt": "Sim", "it": "Sì",
            "pl": "Tak", "ru": "Да", "tr": "Evet", "zh": "是", "ja": "はい"},
    "no": {"en": "No", "es": "No", "de": "Nein", "fr": "Non", "pt": "Não", "it": "No",
           "pl": "Nie", "ru": "Нет", "tr": "Hayır", "zh": "否", "ja": "いいえ"},
}

# The default words of the guard and of tool calls (`BotTexts.injection`, `denied`,
# `tool_refused`, `confirm_tool`, `confirm_cancelled`), in the languages of the buttons.
GUARD: dict[str, dict[str, str]] = {
    "injection": {
        "en": "Sorry, I can't change how I work or share my instructions. What can I help "
              "you with?",
        "es": "Lo siento, no puedo cambiar mi forma de trabajar ni compartir mis "
              "instrucciones. ¿En qué puedo ayudarte?",
        "de": "Entschuldigung, ich kann meine Arbeitsweise nicht ändern und meine Anweisungen "
              "nicht weitergeben. Wobei kann ich helfen?",
        "fr": "Désolé, je ne peux pas changer ma façon de travailler ni partager mes "
              "instructions. Comment puis-je vous aider ?",
        "pt": "Desculpe, não posso mudar a forma como trabalho nem partilhar as minhas "
              "instruções. Em que posso ajudar?",
        "it": "Mi dispiace, non posso cambiare il mio modo di lavorare né condividere le mie "
              "istruzioni. Come posso aiutarti?",
        "pl": "Przepraszam, nie mogę zmienić sposobu działania ani udostępnić swoich "
              "instrukcji. W czym mogę pomóc?",
        "ru": "Извините, я не могу изменить то, как я работаю, или показать свои инструкции. "
              "Чем могу помочь?",
        "tr": "Üzgünüm, çalışma şeklimi değiştiremem veya talimatlarımı paylaşamam. Size nasıl "
              "yardımcı olabilirim?",
        "zh": "抱歉，我不能改变我的工作方式，也不能分享我的指令。有什么可以帮您？",
        "ja": "申し訳ありませんが、動作を変えたり指示を共有したりすることはできません。"
              "何かお手伝いできることはありますか？",
    },
    "denied": {
        "en": "Sorry, that's a topic I can't help with.",
        "es": "Lo siento, no puedo ayudar con ese tema.",
        "de": "Entschuldigung, bei diesem Thema kann ich nicht helfen.",
        "fr": "Désolé, je ne peux pas vous aider sur ce sujet.",
        "pt": "Desculpe, não posso ajudar com esse assunto.",
        "it": "Mi dispiace, non posso aiutarti su questo argomento.",
        "pl": "Przepraszam, w tym temacie nie mogę pomóc.",
        "ru": "Извините, с этой темой я помочь не могу.",
        "tr": "Üzgünüm, bu konuda yardımcı olamam.",
        "zh": "抱歉，这个话题我无法提供帮助。",
        "ja": "申し訳ありませんが、その話題についてはお手伝いできません。",
    },
    "tool_refused": {
        "en": "Sorry, that's not something I can do here.",
        "es": "Lo siento, eso no es algo que pueda hacer aquí.",
        "de": "Entschuldigung, das kann ich hier nicht tun.",
        "fr": "Désolé, ce n'est pas quelque chose que je peux faire ici.",
        "pt": "Desculpe, isso não é algo que eu possa fazer aqui.",
        "it": "Mi dispiace, non è qualcosa che posso fare qui.",
        "pl": "Przepraszam, tego nie mogę tu zrobić.",
        "ru": "Извините, здесь я не могу этого сделать.",
        "tr": "Üzgünüm, bunu burada yapamam.",
        "zh": "抱歉，这件事我在这里做不了。",
        "ja": "申し訳ありませんが、ここではそれはできません。",
    },
    "confirm_tool": {
        "en": "Before I go ahead: {action}. Shall I do it?",
        "es": "Antes de continuar: {action}. ¿Lo hago?",
        "de": "Bevor ich fortfahre: {action}. Soll ich das tun?",
        "fr": "Avant de continuer : {action}. Dois-je le faire ?",
        "pt": "Antes de avançar: {action}. Devo fazê-lo?",
        "it": "Prima di procedere: {action}. Devo farlo?",
        "pl": "Zanim to zrobię: {action}. Czy mam to zrobić?",
        "ru": "Прежде чем продолжить: {action}. Сделать это?",
        "tr": "Devam etmeden önce: {action}. Yapayım mı?",
        "zh": "在继续之前：{action}。要我执行吗？",
        "ja": "実行する前に確認します：{action}。実行してよろしいですか？",
    },
    "confirm_cancelled": {
        "en": "OK, I haven't done it. Is there anything else?",
        "es": "De acuerdo, no lo he hecho. ¿Algo más?",
        "de": "In Ordnung, ich habe es nicht getan. Kann ich sonst noch helfen?",
        "fr": "D'accord, je ne l'ai pas fait. Puis-je vous aider autrement ?",
        "pt": "Está bem, não o fiz. Posso ajudar em mais alguma coisa?",
        "it": "Va bene, non l'ho fatto. Posso aiutarti in altro?",
        "pl": "Dobrze, nie zrobiłem tego. Czy mogę pomóc w czymś jeszcze?",
        "ru": "Хорошо, я этого не сделал. Могу помочь чем-то ещё?",
        "tr": "Tamam, yapmadım. Başka bir şey var mı?",
        "zh": "好的，我没有执行。还有其他需要吗？",
        "ja": "承知しました。実行していません。ほかに何かありますか？",
    },
}
