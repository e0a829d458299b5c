"""The main text of an HTML page, split into sections at its h1-h6 headings.

Parsed with `selectolax` (the Lexbor HTML5 engine: fast, no lxml, encoding detected as a
browser does). The text comes from `<main>` (or `role=main`, or the page's only `<article>`,
else `<body>`), leaving out what a reader skips: navigation, asides, scripts and styles, forms,
hidden elements, and the page's own header and footer. A header or footer inside an article or
section belongs to it and is kept, as ARIA has it.
"""

from __future__ import annotations

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
    A `None` on the stack marks the end of a block element.
    """
    line: list[str] = []
    first_h1 = ""

    def end_block() -> None:
        text = " ".join("".join(line).split())
        if text == "-":  # a list item whose text starts in a nested block keeps its bullet
            return
        outline.add(text)
        line.clear()

    in_section = root.tag in _SECTIONING
    stack: list[tuple[LexborNode, bool] | None] = [
        (child, in_section) for child in reversed(list(root.iter(include_text=True)))
    ]
    while stack:
        item = stack.pop()
        if item is None:
            end_block()
            continue
        node, in_section = item
        tag = node.tag or ""
        if tag == "-text":
            line.append(node.text_content or "")
            continue
        if tag.startswith("-") or _skipped(node, tag, in_section):
            continue
        if tag in _HEADINGS:
            end_block()
            line.clear()
            text = " ".join(node.text().split())
            if tag == "h1" and not first_h1:
                first_h1 = text
            outline.heading(_HEADINGS[tag], text, _anchor(node))
            continue
        if tag in _CELLS and "".join(line).strip():
            line.append(" | ")
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
    return not in_section and (tag in _CHROME_TAGS or role in _CHROME_ROLES)


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
