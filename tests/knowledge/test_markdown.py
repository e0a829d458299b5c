"""Markdown as real projects write it: front matter, `<!-- YAML -->` history comments, setext
headings, both fence styles and indented code, nested lists, tables, inline HTML."""

from __future__ import annotations

from parley_bot.knowledge.markdown import parse_markdown

PAGE = b"""---
title: "Child processes"
layout: api
---

<!-- YAML
added: v0.1.90
changes:
  - version: v12.0.0
-->

Spawning processes
==================

The `child_process` module runs commands. See [the guide](guide.md) for <b>more</b>.

```js
const { spawn } = require('node:child_process');

const ls = spawn('ls', ['-lh']);
```

Options
-------

* `cwd` {string} Working directory.
* `env` {Object} Environment.
  1. inherited by default
  2. replaced when given

~~~sh
node --trace-warnings app.js
~~~

    indented code stays code

| option | default |
|--------|---------|
| detached | false |

## `subprocess.kill([signal])` <!-- a comment in a heading line -->

Sends `'SIGTERM'` unless told otherwise.
"""


def test_front_matter_gives_the_title_and_is_not_text() -> None:
    title, sections = parse_markdown(PAGE, "child_process.md")
    assert title == "Child processes"
    text = "\n".join(s.text for s in sections)
    assert "layout" not in text and "added: v0.1.90" not in text and "YAML" not in text


def test_setext_and_atx_headings_make_sections() -> None:
    _, sections = parse_markdown(PAGE, "child_process.md")
    assert [s.heading_path for s in sections] == [
        ("Spawning processes",),
        ("Spawning processes", "Options"),
        ("Spawning processes", "subprocess.kill([signal])"),
    ]


def test_code_keeps_its_lines_and_lists_their_items() -> None:
    _, (intro, options, kill) = parse_markdown(PAGE, "child_process.md")
    assert intro.text == (
        "The `child_process` module runs commands. See the guide for more.\n\n"
        "```js\nconst { spawn } = require('node:child_process');\n\n"
        "const ls = spawn('ls', ['-lh']);\n```"
    )
    assert options.text.split("\n\n") == [
        "- `cwd` {string} Working directory.\n- `env` {Object} Environment.\n"
        "  1. inherited by default\n  2. replaced when given",
        "```sh\nnode --trace-warnings app.js\n```",
        "```\nindented code stays code\n```",
        "option | default",
        "detached | false",
    ]
    assert kill.text == "Sends `'SIGTERM'` unless told otherwise."


def test_a_title_comes_from_the_first_h1_without_front_matter() -> None:
    title, _ = parse_markdown(b"Intro text.\n\n# Warranty\n\nTwo years.\n", "w.md")
    assert title == "Warranty"
    title, _ = parse_markdown(b"Just text.\n", "store-hours.md")
    assert title == "Store hours"
