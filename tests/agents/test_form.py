"""Whole conversations with a form skill through `Bot`: slot filling with a correction, an
invalid answer, a cancellation, proof of identity, and the tool failing. No model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import FlowsConfig
from tests.conftest import configure
from tests.utils.api_stub import ApiStub
from tests.utils.messages import inbound

ORDER_FORM: dict[str, Any] = {
    "name": "order_status", "kind": "form", "description": "Where your order is",
    "examples": ["where is my order", "order status", "track my order", "has my order shipped"],
    "tool": "order_lookup", "verify": {"slot": "email", "field": "customer.email"},
    "slots": [
        {"name": "number", "question": "What is your order number?", "pattern": r"\d{5}",
         "aliases": ["order"], "invalid": "Order numbers have five digits."},
        {"name": "email", "type": "email", "question": "What e-mail address is on the order?"},
    ],
    "reply": "Order {{ number }} is {{ result.status }} ({{ result.carrier }}).",
}
LOOKUP = {"name": "order_lookup", "description": "An order by number",
          "url": "${ORDERS_API}/orders/{number}", "args": {"number": {}},
          "keep": ["status", "carrier", "customer.email"], "timeout_s": 0.5}


def form_bot(bot_dir: Path, **form: Any) -> FlowsConfig:
    skills = [{"name": "returns", "description": "Returns and refunds",
               "examples": ["how do I return something", "I want a refund"]},
              {**ORDER_FORM, **form}]
    return configure(bot_dir, skills=skills, tools=[LOOKUP])


@pytest.fixture(autouse=True)
def _orders_api(api_stub: ApiStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_API", api_stub.base_url)


async def talk(bot: Bot, *lines: str, conversation: str = "c1") -> list[str]:
    return [(await bot.handle(inbound(line, conversation))).text for line in lines]


async def test_a_form_asks_accepts_a_correction_and_answers_from_the_tool(
    bot_dir: Path, api_stub: ApiStub,
) -> None:
    async with Bot.open(form_bot(bot_dir)) as bot:
        replies = await talk(bot, "where is my order?", "10044", "no, make that order 10045",
                             "it's ann@example.com")
        last = await bot.handle(inbound("thanks, and how do I return boots?"))
    assert replies == [
        "What is your order number?",
        "What e-mail address is on the order?",
        "What e-mail address is on the order?",  # corrected, still missing the e-mail
        "Order 10045 is shipped (DHL).",
    ]
    assert [r["path"] for r in api_stub.requests] == ["/orders/10045"]
    assert last.skill == "returns"  # the form is finished; the conversation moves on


async def test_unasked_values_fill_slots_and_a_wrong_answer_gets_the_validation_message(
    bot_dir: Path,
) -> None:
    async with Bot.open(form_bot(bot_dir)) as bot:
        replies = await talk(bot, "where is my order? my e-mail is ann@example.com",
                             "I don't know", "10045")
    assert replies == ["What is your order number?",
                       "Order numbers have five digits. What is your order number?",
                       "Order 10045 is shipped (DHL)."]


async def test_cancel_ends_the_form_and_the_next_question_is_answered_normally(
    bot_dir: Path, api_stub: ApiStub,
) -> None:
    config = form_bot(bot_dir)
    async with Bot.open(config) as bot:
        replies = await talk(bot, "where is my order?", "10045", "cancel")
        after = await bot.handle(inbound("how long do I have to return boots?"))
    assert replies[2] == config.texts.form_cancelled
    assert "60 days" in after.text and after.skill == "returns"
    assert api_stub.requests == []


async def test_a_wrong_email_reveals_nothing_about_the_order(bot_dir: Path) -> None:
    config = form_bot(bot_dir)
    async with Bot.open(config) as bot:
        wrong = await talk(bot, "where is my order 10045?", "mallory@example.com")
        unknown = await talk(bot, "where is my order 99999?", "ann@example.com",
                             conversation="c2")
    assert wrong[-1] == unknown[-1] == config.texts.not_found
    assert "shipped" not in wrong[-1]


async def test_a_failing_tool_is_a_polite_answer(bot_dir: Path) -> None:
    config = form_bot(bot_dir)
    async with Bot.open(config) as bot:
        bot_config = configure(bot_dir, tools=[{**LOOKUP, "url": "${ORDERS_API}/broken/{number}"}])
        await bot.reload(bot_config)
        reply = await bot.handle(inbound("where is my order 10045? ann@example.com"))
    assert reply.text == config.texts.tool_failed and reply.fallback


async def test_a_choice_slot_offers_its_choices_as_buttons(bot_dir: Path) -> None:
    size = {"name": "size", "type": "choice", "choices": ["S", "M", "L"],
            "question": "Which size?"}
    async with Bot.open(form_bot(bot_dir, slots=[*ORDER_FORM["slots"], size])) as bot:
        await talk(bot, "where is my order?", "10045")
        question = await bot.handle(inbound("ann@example.com"))
        answer = await bot.handle(inbound(question.buttons[1].value))  # a tap on "M"
    assert question.text == "Which size?"
    assert [(b.label, b.value) for b in question.buttons] == [("S", "S"), ("M", "M"), ("L", "L")]
    assert answer.text == "Order 10045 is shipped (DHL)." and answer.buttons == ()
