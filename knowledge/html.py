"""The main text of an HTML page, split into sections at its h1-h6 headings.

Parsed with `selectolax` (the Lexbor HTML5 engine: fast, no lxml, encoding detected as a
browser does). The text comes from `<main>` (or `role=main`, or the page's only `<article>`,
else `<body>`), leaving out what a reader skips: navigation, asides, scripts and styles, forms,
hidden elements, and the page's own header and footer. A header or footer inside an article or
section belongs to it and is kept, as ARIA has it.

Generated manuals mark their chrome with classes rather than elements, so these go too: blocks
classed as navigation or a table of contents (DocBook's `navheader` and `toc`, texinfo's
`nav-panel`, Sphinx's `headerlink`), lists that are nothing but links (a contents list), lines
of 'Next: … Previous: … Up: …' links, and heading permalinks (¶, §, #). Preformatted text stays
a fenced code block with its line breaks; a question of a Q&A list (DocBook's `question` rows,
`<details>`' summary) is a heading over its answer, and so is a defined term over its
definition (an option over what it does), until the list (or the table of questions) ends.
"""

from __future__ import annotations

import regex
from selectolax.lexbor import LexborHTMLParser, LexborNode

from parley_bot.knowledge.outline import Outline, Parsed, title_from_name

_SKIP = frozenset({
    "script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object",
    "embed", "video", "audio", "map", "nav", "aside", "form", "button", "select", "dialog",
    "head",
})
_SKIP_ROLES = frozenset({"navigation", "complementary", "search", "dialog", "alertdialog",
                         "menu", "menubar", "toolbar"})
_CHROME_TAGS = frozenset({"header", "footer"})
_CHROME_ROLES = frozenset({"banner", "contentinfo"})
_SECTIONING = frozenset({"main", "article", "section"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset({
    "address", "article", "blockquote", "br", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "hr", "li", "main", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
})
_CELLS = frozenset({"td", "th"})
_CHROME_CLASSES = ("nav", "breadcrumb", "toc", "headerlink", "hash-link", "anchorjs",
                   "pagination", "skip-link", "visually-hidden", "sr-only")
_PERMALINKS = frozenset({"¶", "§", "#", "🔗", "⚓", "link", "permalink"})
_LINK_LISTS = frozenset({"ul", "ol", "dl", "table"})
_QUESTION_LEVEL = 7  # below every h1-h6: a question belongs to the section it is asked in
_TERM_LEVEL = 8  # a defined term (an option, a setting) is a section within that
_ENDS_SECTIONS = {"dl": _TERM_LEVEL, "table": _QUESTION_LEVEL}
_NAVIGATION_LINE = regex.compile(r"\b(?:Next|Previous|Prev|Up|Home|Forward|Back)\s*:", regex.I)


def parse_html(data: bytes, name: str) -> Parsed:
    """Title from `<title>`, else the first h1, else the file name; a section per heading.

    Args:
        data: the page's bytes; the encoding is taken from a BOM or `<meta charset>`
            (UTF-8 when neither says otherwise).
        name: file name or URL, for the fallback title.
    """
    tree = LexborHTMLParser(data, encoding=True)
    title_node = tree.head.css_first("title") if tree.head is not None else None
    title = " ".join(title_node.text().split()) if title_node is not None else ""
    root = _main(tree)
    outline = Outline()
    first_h1 = _walk(root, outline) if root is not None else ""
    return title or first_h1 or title_from_name(name), outline.finish()


def _main(tree: LexborHTMLParser) -> LexborNode | None:
    main = tree.css_first("main, [role=main]")
    if main is not None:
        return main
    articles = tree.css("article")
    return articles[0] if len(articles) == 1 else tree.body


def _walk(root: LexborNode, outline: Outline) -> str:
    """Feed the text under `root` to `outline` in document order; return the first h1's text.

    Iterative (a stack, not recursion), so deeply nested markup cannot hit the recursion limit.
    A `None` on the stack marks the end of a block element; an int, that of a definition
    list or a table, where the sections of its terms or questions (that level) end.
    """
    line: list[str] = []
    first_h1 = ""

    def end_block() -> None:
        text = " ".join("".join(line).split())
        if text == "-":  # a list item whose text starts in a nested block keeps its bullet
            return
        if not _navigation_line(text):
            outline.add(text)
        line.clear()

    in_section = root.tag in _SECTIONING
    stack: list[tuple[LexborNode, bool] | int | None] = [
        (child, in_section) for child in reversed(list(root.iter(include_text=True)))
    ]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, int):
            end_block()
            if item is not None:
                outline.close(item)
            continue
        node, in_section = item
        tag = node.tag or ""
        if tag == "-text":
            line.append(node.text_content or "")
            continue
        if tag.startswith("-") or _skipped(node, tag, in_section):
            continue
        level = _heading_level(node, tag)
        if level is not None:
            end_block()
            line.clear()
            text = _heading_text(node)
            if tag == "h1" and not first_h1:
                first_h1 = text
            outline.heading(level, text, _anchor(node))
            continue
        if tag == "pre":
            end_block()
            code = (node.text(deep=True, separator="") or "").strip("\n")
            if code.strip():
                outline.add(f"```\n{code}\n```")
            continue
        if tag in _CELLS and "".join(line).strip():
            line.append(" | ")
        elif tag in _ENDS_SECTIONS:
            end_block()
            stack.append(_ENDS_SECTIONS[tag])
        elif tag in _BLOCKS:
            end_block()
            stack.append(None)
            if tag == "li":
                line.append("- ")
        inner = in_section or tag in _SECTIONING
        stack.extend((child, inner) for child in reversed(list(node.iter(include_text=True))))
    end_block()
    return first_h1


def _skipped(node: LexborNode, tag: str, in_section: bool) -> bool:
    attrs = node.attributes
    role = (attrs.get("role") or "").lower()
    if tag in _SKIP or role in _SKIP_ROLES:
        return True
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    classes = (attrs.get("class") or "").lower().split()
    if any(c.startswith(_CHROME_CLASSES) for c in classes):
        return True
    if tag == "a" and (node.text() or "").strip().lower() in _PERMALINKS:
        return True
    if tag in _LINK_LISTS and _only_links(node):
        return True
    return not in_section and (tag in _CHROME_TAGS or role in _CHROME_ROLES)


def _only_links(node: LexborNode) -> bool:
    """A list or table that is links and little else: a table of contents, a link bar."""
    links = node.css("a[href]")
    if len(links) < 3:
        return False
    total = len("".join(node.text().split()))
    linked = sum(len("".join(a.text().split())) for a in links)
    return linked >= 0.8 * total


def _navigation_line(text: str) -> bool:
    """'Next: Invoking, Previous: Overview, Up: Top [Contents][Index]': links to the pages
    around this one, as texinfo and others print them above and below every page."""
    return len(_NAVIGATION_LINE.findall(text)) >= 2 and len(text.split()) <= 40


def _heading_level(node: LexborNode, tag: str) -> int | None:
    """1-6 for h1-h6; `_QUESTION_LEVEL` for the question of a Q&A pair; `_TERM_LEVEL` for a
    term of a definition list (`--num-callers=<number>` over its description); else None."""
    if tag in _HEADINGS:
        return _HEADINGS[tag]
    if tag == "summary" or "question" in (node.attributes.get("class") or "").split():
        return _QUESTION_LEVEL
    if tag == "dt":
        return _TERM_LEVEL
    return None


def _heading_text(node: LexborNode) -> str:
    """A heading's words, without its permalink mark or anything a reader does not see."""
    parts: list[str] = []

    def visit(parent: LexborNode) -> None:
        for child in parent.iter(include_text=True):
            tag = child.tag or ""
            if tag == "-text":
                parts.append(child.text_content or "")
            elif not tag.startswith("-") and not _skipped(child, tag, in_section=True):
                visit(child)

    visit(node)
    return " ".join("".join(parts).split())
def _anchor(heading: LexborNode) -> str | None:
    """The fragment that scrolls to `heading`: its id, an id or name inside it, or the id of a
    section it opens. None lets the outline fall back to a slug of the heading text."""
    if heading.id:
        return heading.id
    inner = heading.css_first("[id], a[name]")
    if inner is not None:
        return inner.id or inner.attributes.get("name") or None
    parent = heading.parent
    if parent is not None and parent.tag == "section" and parent.id:
        return parent.id
    return None
