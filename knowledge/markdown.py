"""Markdown, parsed by markdown-it-py (CommonMark, plus tables): what the file shows a reader,
cut into sections at its headings.

Front matter (YAML between `---` lines, TOML between `+++`) is not text; its `title:` is the
document's title when it has one, else the first level-1 heading is. Headings may be ATX
(`## Returns`) or setext (underlined); code in either fence style, or indented, stays a fenced
block with its line breaks; list items stay one a line; HTML comments (`<!-- YAML added:
v1.0 -->`) and tags are dropped, the text inside tags kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token
from selectolax.lexbor import LexborHTMLParser

from parley_bot.knowledge.outline import Outline, Parsed, decode, title_from_name

_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n(.*?\n)?(?:---|\+\+\+|\.\.\.)[ \t]*(?:\n|\Z)",
                           re.DOTALL)
_TITLE = re.compile(r"^title\s*[:=]\s*(.+?)\s*$", re.MULTILINE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")


def parse_markdown(data: bytes, name: str) -> Parsed:
    """A section at every heading, blocks kept apart; title from front matter or first h1."""
    text = decode(data, name)
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:
        found = _TITLE.search(front.group(1) or "")
        title = found.group(1).strip("\"'") if found else ""
        text = text[front.end():]
    outline = Outline()
    tokens = _PARSER.parse(text)
    for kind, level, content in _blocks(tokens):
        if kind == "heading":
            title = title or (content if level == 1 else "")
            outline.heading(level, content)
        else:
            outline.add(content)
    return title or title_from_name(name), outline.finish()


def _blocks(tokens: list[Token]) -> Iterator[tuple[str, int, str]]:
    """("heading", level, text) and ("block", 0, text) in document order."""
    items: list[str] = []
    depth = 0  # nesting of lists
    numbers: list[int | None] = []
    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            yield "heading", int(token.tag[1]), _inline(tokens[i + 1]).replace("`", "")
        elif kind in {"bullet_list_open", "ordered_list_open"}:
            depth += 1
            numbers.append(int(token.attrs.get("start", 1) or 1)
                           if kind == "ordered_list_open" else None)
        elif kind in {"bullet_list_close", "ordered_list_close"}:
            depth -= 1
            numbers.pop()
            if depth == 0 and items:
                yield "block", 0, "\n".join(items)
                items = []
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            text = _inline(token)
            if depth and tokens[i - 2].type == "list_item_open":
                marker = "-" if numbers[-1] is None else f"{_next(numbers)}."
                items.append("  " * (depth - 1) + f"{marker} {text}")
            elif depth and items:
                items[-1] += " " + text  # a second paragraph of the same item
            elif text:
                yield "block", 0, text
        elif kind in {"fence", "code_block"}:
            code = f"```{token.info.strip()}\n{token.content.rstrip(chr(10))}\n```"
            if depth:
                items.append(code)
            else:
                yield "block", 0, code
        elif kind == "html_block":
            text = _html_text(token.content)
            if text:
                yield "block", 0, text
        elif kind == "tr_open":
            cells = [_inline(t) for t in _row(tokens, i)]
            yield "block", 0, " | ".join(c for c in cells if c)


def _next(numbers: list[int | None]) -> int:
    number = numbers[-1] or 1
    numbers[-1] = number + 1
    return number


def _row(tokens: list[Token], start: int) -> Iterator[Token]:
    for token in tokens[start + 1:]:
        if token.type == "tr_close":
            return
        if token.type == "inline":
            yield token


def _inline(token: Token) -> str:
    """An inline token's text as a reader sees it: code kept in backticks, tags dropped."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in {"text", "text_special"}:
            parts.append(child.content)
        elif child.type == "code_inline":
            parts.append(f"`{child.content}`")
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)  # its alt text
    return " ".join("".join(parts).split())


def _html_text(html: str) -> str:
    """The text of a block of raw HTML; nothing for a comment."""
    html = _COMMENT.sub("", html).strip()
    if not html:
        return ""
    body = LexborHTMLParser(html).body
    return " ".join((body.text() if body is not None else "").split())
