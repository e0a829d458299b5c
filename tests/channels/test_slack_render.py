"""Markdown → Slack mrkdwn and a reply's Block Kit blocks."""

from __future__ import annotations

from parley_bot.channels.messages import Button, Citation, OutboundMessage
from parley_bot.channels.slack_render import SECTION_CHARS, blocks, mrkdwn


def test_markdown_becomes_mrkdwn() -> None:
    markdown = ("# Returns\n\nYou have **60 days** to return *boots*, see "
                "[the policy](https://acme.example/returns) & <this>.\n\n"
                "- one\n- two `code`\n  1. first\n  2. second\n\n3. three\n")
    assert mrkdwn(markdown) == (
        "*Returns*\n\n"
        "You have *60 days* to return _boots_, see <https://acme.example/returns|the policy>"
        " &amp; &lt;this&gt;.\n\n"
        "• one\n• two `code`\n    1. first\n    2. second\n\n3. three")


def test_a_reply_becomes_sections_sources_and_buttons() -> None:
    reply = OutboundMessage(
        conversation_id="T1:C1:1", text="x" * (SECTION_CHARS + 10),
        citations=(Citation(title="Returns", uri="https://acme.example/returns",
                            anchor="limits"),
                   Citation(title="Sizes", uri="sizes.md", location="Boots")),
        buttons=(Button(label="Yes", value="yes"), Button(label="No", value="no")))
    sections, context, actions = blocks(reply)[:2], blocks(reply)[2], blocks(reply)[3]
    assert [len(s["text"]["text"]) for s in sections] == [SECTION_CHARS, 10]
    assert [e["text"] for e in context["elements"]] == [
        "<https://acme.example/returns#limits|Returns>", "sizes.md — Boots"]
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in actions["elements"]] == [
        ("parley_reply_0", "yes", "Yes"), ("parley_reply_1", "no", "No")]


def test_link_urls_cannot_break_out_of_their_markup() -> None:
    assert mrkdwn("[docs](https://a.example/x?q=a|b>c)") == (
        "<https://a.example/x?q=a%7Cb%3Ec|docs>")
    reply = OutboundMessage(conversation_id="T1:C1:1", text="ok", citations=(
        Citation(title="Odd", uri="https://a.example/a|b"),))
    assert blocks(reply)[-1]["elements"][0]["text"] == "<https://a.example/a%7Cb|Odd>"
