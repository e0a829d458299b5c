"""Markdown as WhatsApp shows it; choices and sources as text."""

from __future__ import annotations

import pytest

from parley_bot.channels.messages import Button, Citation, OutboundMessage
from parley_bot.channels.whatsapp_text import render, to_whatsapp


@pytest.mark.parametrize(("markdown", "whatsapp"), [
    ("**Boots** and __socks__", "*Boots* and *socks*"),
    ("*within* 60 days, _really_", "_within_ 60 days, _really_"),
    ("~~never~~", "~never~"),
    ("## Returns", "*Returns*"),
    ("- one\n* two\n  + nested", "• one\n• two\n  • nested"),
    ("1. first\n2. second", "1. first\n2. second"),
    ("See [the policy](https://acme.test/returns).", "See the policy (https://acme.test/returns)."),
    ("[https://acme.test](https://acme.test)", "https://acme.test"),
    ("`**kept**` and\n```\n# kept\n```", "`**kept**` and\n```\n# kept\n```"),
    ("2 * 3 * 4 = 24", "2 * 3 * 4 = 24"),
])
def test_markdown_becomes_whatsapp_formatting(markdown: str, whatsapp: str) -> None:
    assert to_whatsapp(markdown) == whatsapp


def test_a_reply_with_choices_and_sources() -> None:
    reply = OutboundMessage(
        conversation_id="+1555", text="Pick a **size**:",
        buttons=(Button(label="Small", value="S"), Button(label="Large", value="L")),
        citations=(Citation(title="Sizing", uri="https://acme.test/sizing", anchor="boots"),
                   Citation(title="Returns", uri="returns.md", location="Returns › Time")))
    assert render(reply) == (
        "Pick a *size*:\n\n1. Small\n2. Large\n\n"
        "[1] Sizing: https://acme.test/sizing#boots\n[2] Returns: returns.md — Returns › Time")
