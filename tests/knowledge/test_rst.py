"""reStructuredText through docutils: sections, lists, literal blocks, definition lists; a
contents table, unknown Sphinx directives and markup errors leave nothing behind."""

from __future__ import annotations

from parley_bot.knowledge.rst import parse_rst

PAGE = """\
==============
 Docutils FAQ
==============

.. contents::

What is it?
===========

Docutils processes plain text into HTML, LaTeX and more. See :ref:`the intro <intro>`.

.. toctree::
   :maxdepth: 2

   install

How do I install it?
--------------------

Use pip:

.. code-block:: sh

   pip install docutils
   rst2html --version

- from PyPI
- from a checkout

  - with ``pip install -e .``

Settings
========

datestamp
   Include a date stamp in the footer.

This paragraph has *broken markup and `an unclosed role.
"""


def test_sections_lists_code_and_terms() -> None:
    title, sections = parse_rst(PAGE.encode(), "faq.rst")
    assert title == "Docutils FAQ"
    assert [(s.heading_path, s.anchor) for s in sections] == [
        (("What is it?",), "what-is-it"),
        (("What is it?", "How do I install it?"), "how-do-i-install-it"),
        (("Settings",), "settings"),
    ]
    what, install, settings = (s.text for s in sections)
    assert what == "Docutils processes plain text into HTML, LaTeX and more. See the intro."
    assert install == ("Use pip:\n\n```\npip install docutils\nrst2html --version\n```\n\n"
                       "- from PyPI\n- from a checkout\n  - with pip install -e .")
    assert settings.startswith("datestamp\n\nInclude a date stamp in the footer.")


def test_a_contents_table_and_unknown_directives_leave_nothing() -> None:
    _, sections = parse_rst(PAGE.encode(), "faq.rst")
    text = "\n".join(s.text for s in sections)
    assert "toctree" not in text and "maxdepth" not in text and "install\n" not in text
    assert "Contents" not in text
    assert "broken markup" in text  # kept, though its markup is broken
