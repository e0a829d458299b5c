"""reStructuredText, parsed by docutils (the reference implementation): a section at every
section title, paragraphs, lists one item a line, literal blocks as fenced code, definition
lists as a term over its definition, tables as rows.

A `.. contents::` table is left out (it repeats the headings). Sphinx's own directives and
roles (`.. toctree::`, `:ref:`) are unknown to docutils: their error messages are dropped with
them, never indexed, and a role's text is kept. Nothing is read from other files
(`.. include::` is off), and raw HTML is not passed through.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from docutils import nodes
from docutils.core import publish_doctree

from parley_bot.knowledge.outline import Outline, Parsed, decode, title_from_name

_SETTINGS = {
    "report_level": 5,  # nothing on stderr
    "halt_level": 5,  # never raise for markup errors: keep what parses
    "warning_stream": io.StringIO(),
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "input_encoding": "unicode",
}
_SKIPPED = (nodes.system_message, nodes.comment, nodes.substitution_definition, nodes.target,
            nodes.raw, nodes.Invisible)
_LISTS = (nodes.bullet_list, nodes.enumerated_list)
_ROLE = re.compile(r":[\w.+-]+:`([^`]*)`")


def parse_rst(data: bytes, name: str) -> Parsed:
    """Title from the document title (a lone top section title), else the file name."""
    tree = publish_doctree(decode(data, name), source_path=name,
                           settings_overrides=dict(_SETTINGS))
    outline = Outline()
    title = ""
    for child in tree.children:
        if isinstance(child, nodes.title):
            title = _text(child)
        elif isinstance(child, nodes.subtitle):  # a lone section's title, promoted by docutils
            outline.heading(1, _text(child), (child.get("ids") or [None])[0])
        else:
            _walk(child, outline, 1)
    return title or title_from_name(name), outline.finish()


def _walk(node: nodes.Node, outline: Outline, level: int) -> None:
    if isinstance(node, _SKIPPED):
        return
    if isinstance(node, nodes.topic) and "contents" in node["classes"]:
        return  # `.. contents::`: a table of contents, repeating the headings
    if isinstance(node, nodes.section):
        for child in node.children:
            if isinstance(child, nodes.title):
                outline.heading(level, _text(child), (node.get("ids") or [None])[0])
            else:
                _walk(child, outline, level + 1)
    elif isinstance(node, (nodes.paragraph, nodes.line_block, nodes.rubric)):
        outline.add(_text(node))
    elif isinstance(node, (nodes.literal_block, nodes.doctest_block)):
        outline.add(f"```\n{node.astext()}\n```")
    elif isinstance(node, _LISTS):
        outline.add("\n".join(_items(node, 0)))
    elif isinstance(node, nodes.definition_list_item):
        for child in node.children:
            if isinstance(child, nodes.term):
                outline.add(_text(child))
            elif isinstance(child, nodes.definition):
                for part in child.children:
                    _walk(part, outline, level)
    elif isinstance(node, (nodes.field, nodes.option_list_item)):
        name, body = node.children[0], node.children[1]
        outline.add(f"{' '.join(name.astext().split())}: {_text(body)}")
    elif isinstance(node, nodes.row):
        outline.add(" | ".join(_text(entry) for entry in node.children))
    elif isinstance(node, nodes.Element):
        for child in node.children:
            _walk(child, outline, level)


def _items(node: nodes.Element, depth: int) -> Iterator[str]:
    """List items one a line, nested lists indented under their item."""
    for number, item in enumerate(node.children, start=int(node.get("start", 1))):
        marker = f"{number}." if isinstance(node, nodes.enumerated_list) else "-"
        texts = [_text(c) for c in item.children if not isinstance(c, (*_LISTS, *_SKIPPED))]
        yield "  " * depth + f"{marker} " + " ".join(t for t in texts if t)
        for child in item.children:
            if isinstance(child, _LISTS):
                yield from _items(child, depth + 1)


def _text(node: nodes.Node) -> str:
    """The words of a node, markup errors left out."""
    parts = [n.astext() for n in node.findall(nodes.Text)
             if not any(isinstance(a, _SKIPPED) for a in _parents(n, node))]
    return " ".join(_ROLE.sub(_role_text, "".join(parts)).split())


def _role_text(match: re.Match[str]) -> str:
    """What a reader sees of a role docutils does not know: ':ref:`Setup <setup>`' → 'Setup'."""
    text = match.group(1)
    return text.split("<")[0].strip() if "<" in text else text


def _parents(node: nodes.Node, stop: nodes.Node) -> Iterator[nodes.Node]:
    parent = node.parent
    while parent is not None and parent is not stop:
        yield parent
        parent = parent.parent
