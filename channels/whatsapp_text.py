"""A reply as WhatsApp shows it: Markdown turned into WhatsApp's own marks, sources as short
links, quick replies as a numbered list.

WhatsApp knows `*bold*`, `_italic_`, `~strike~` and ```` ``` ```` blocks, not Markdown: the
model's `**bold**` would show its stars. Links become 'text (url)', headings bold lines and
bullets '•'. Code spans and blocks are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from parley_bot.channels.messages import Button, Citation, OutboundMessage

_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.M)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_BOLD_MARK = "\x00"  # stands for WhatsApp's '*' until single-star italics are converted


def to_whatsapp(markdown: str) -> str:
    """Markdown as WhatsApp formatting: `**b**` → `*b*`, `*i*` → `_i_`, `~~s~~` → `~s~`,
    '# Title' → '*Title*', '- item' → '• item', `[text](url)` → 'text (url)'."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x01{len(kept) - 1}\x01"

    text = _CODE.sub(keep, markdown)
    text = _LINK.sub(_link, text)
    text = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(1) or m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = text.replace(_BOLD_MARK, "*")
    return re.sub("\x01(\\d+)\x01", lambda m: kept[int(m.group(1))], text)


def numbered(buttons: Sequence[Button]) -> str:
    """Quick replies as lines '1. Label', for a channel without buttons: the user answers
    with the number (see `channels.choices`)."""
    return "\n".join(f"{i}. {button.label}" for i, button in enumerate(buttons, 1))


def sources(citations: Sequence[Citation]) -> str:
    """The sources as short lines: '[1] Returns: https://…' for a web page, the title and
    where in it for a document."""
    lines = []
    for i, citation in enumerate(citations, 1):
        link = citation.link
        where = link if link.startswith(("https://", "http://")) else citation.label
        lines.append(f"[{i}] {citation.title}: {where}")
    return "\n".join(lines)


def render(reply: OutboundMessage) -> str:
    """The whole reply as one WhatsApp text: the answer, its choices, its sources."""
    parts = [to_whatsapp(reply.text)]
    if reply.buttons:
        parts.append(numbered(reply.buttons))
    if reply.citations:
        parts.append(sources(reply.citations))
    return "\n\n".join(p for p in parts if p)


def _link(match: re.Match[str]) -> str:
    text, url = match.group(1).strip(), match.group(2)
    return url if not text or text == url else f"{text} ({url})"
