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
