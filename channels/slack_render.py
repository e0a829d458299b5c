"""A reply as Slack shows it: Markdown turned into Slack's mrkdwn, sources as a context
block of links, quick replies as Block Kit buttons.

Models write CommonMark; Slack's mrkdwn is its own dialect (`*bold*`, `_italic_`,
`<url|text>`, no headings, no list syntax), so the text is parsed with markdown-it (the
same parser the knowledge loaders use) and written back out token by token.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from parley_bot.channels.messages import OutboundMessage

ACTION_PREFIX = "parley_reply_"
"""Buttons' action ids are this plus their position; a click is the user's next turn."""
SECTION_CHARS = 3000  # Slack's limit on a section block's text
MAX_BUTTONS = 25  # on an actions block
MAX_CONTEXT = 10  # elements of a context block
LABEL_CHARS = 75  # a button's text

Block = dict[str, Any]
_parser = MarkdownIt("commonmark").enable("strikethrough")
_INLINE = {"strong_open": "*", "strong_close": "*", "em_open": "_", "em_close": "_",
           "s_open": "~", "s_close": "~"}


def escape(text: str) -> str:
    """Text with the three characters Slack reserves for markup escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(markdown: str) -> str:
    """Markdown → Slack mrkdwn: headings become bold lines, lists get bullets or numbers,
    links become `<url|text>`; anything else is shown as written."""
    lines: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number] or [] for bullets
    prefix = ""
    for token in _parser.parse(markdown):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([int(token.attrs.get("start", 1) or 1)] if kind[0] == "o" else [])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                lines.append("")
        elif kind == "list_item_open":
            numbering = lists[-1]
            mark = f"{numbering[0]}." if numbering else "•"
            if numbering:
                numbering[0] += 1
            prefix = "    " * (len(lists) - 1) + mark + " "
        elif kind == "inline":
            text = _inline(token.children or [])
            heading = lines and lines[-1] == "\0heading"
            if heading:
                lines.pop()
                text = f"*{text}*"
            lines.append(prefix + text)
            prefix = ""
        elif kind == "heading_open":
            lines.append("\0heading")
        elif kind == "html_block":
            lines.append(escape(token.content.rstrip()))
        elif kind in ("fence", "code_block"):
            lines.append(f"```\n{token.content.rstrip()}\n```")
        elif kind == "hr":
            lines.append("———")
        elif kind in ("paragraph_close", "heading_close") and not lists:
            lines.append("")
    return "\n".join(lines).strip()


def _inline(tokens: list[Token]) -> str:
    out: list[str] = []
    link: list[str] = []  # the open link's href; its text is collected in `out` after it
    start = 0
    for token in tokens:
        kind = token.type
        if kind in ("text", "html_inline"):
            out.append(escape(token.content))
        elif kind == "code_inline":
            out.append(f"`{escape(token.content)}`")
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind in _INLINE:
            out.append(_INLINE[kind])
        elif kind == "link_open":
            link.append(str(token.attrs.get("href", "")))
            start = len(out)
        elif kind == "link_close" and link:
            label = "".join(out[start:])
            del out[start:]
            out.append(f"<{_href(link.pop())}|{label}>")
        elif kind == "image":
            out.append(f"<{_href(str(token.attrs.get('src', '')))}|{escape(token.content)}>")
    return "".join(out)


def blocks(reply: OutboundMessage, *, with_text: bool = True) -> list[Block]:
    """The Block Kit blocks of a reply: its text (unless streamed already), its sources,
    its buttons."""
    result: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": part}}
                           for part in _parts(mrkdwn(reply.text) or " ")] if with_text else []
    if reply.citations:
        links = [f"<{_href(c.link)}|{escape(c.title or c.label)}>" if _linkable(c.link)
                 else escape(c.label) for c in reply.citations]
        result.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": link} for link in links[:MAX_CONTEXT]]})
    if reply.buttons:
        result.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"{ACTION_PREFIX}{n}", "value": b.value,
             "text": {"type": "plain_text", "text": b.label[:LABEL_CHARS]}}
            for n, b in enumerate(reply.buttons[:MAX_BUTTONS])]})
    return result


def _parts(text: str) -> list[str]:
    """`text` in pieces a section block takes, cut at line ends where possible."""
    parts = []
    while len(text) > SECTION_CHARS:
        cut = text.rfind("\n", 0, SECTION_CHARS)
        cut = cut if cut > 0 else SECTION_CHARS
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*parts, text]


def _href(url: str) -> str:
    """A URL inside `<url|text>`: '<', '>' and '|' would end it early, so they are
    percent-encoded (the address stays the same)."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def _linkable(uri: str) -> bool:
    return uri.startswith(("https://", "http://"))
