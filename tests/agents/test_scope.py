"""The no-match order through `Bot`: a confident skill, a follow-up that stays in its skill,
the general answer from the documents, and out of scope with what the bot can do; bots with
no skill and with one."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.scope import out_of_scope_text, what_i_can_help_with
from tests.conftest import configure
from tests.utils.messages import inbound


async def test_a_question_no_skill_describes_gets_the_documents_answer(bot_dir: Path) -> None:
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        reply = await bot.handle(inbound("what does the warranty cover?"))
    assert reply.skill is None and "2-year warranty" in reply.text
    assert [c.uri for c in reply.citations] == ["warranty.md"]


async def test_an_unrelated_question_gets_the_fallback_and_the_list_of_skills(
    bot_dir: Path,
) -> None:
    config = load_flows(bot_dir / "flows.yaml")
    async with Bot.open(config) as bot:
        reply = await bot.handle(inbound("who won the football match yesterday?"))
    assert reply.text == out_of_scope_text(config) and reply.skill is None
    assert what_i_can_help_with(config) == (
        "I can help with: where your order is; returning or exchanging an item, refunds; "
        "delivery times and shipping costs; store opening hours, locations and services; "
        "choosing gear from our catalog.")


async def test_a_follow_up_stays_in_the_skill_and_the_answering_skill_is_logged(
    bot_dir: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        with caplog.at_level(logging.INFO, logger="parley.turn"):
            first = await bot.handle(inbound("can I exchange boots for a bigger size"))
            follow = await bot.handle(inbound("and for kids' sizes?"))
        elsewhere = await bot.handle(inbound("and for kids' sizes?", conversation="c2"))
    assert first.skill == follow.skill == "returns"
    assert "120 days" in follow.text
    assert elsewhere.skill is None  # without the earlier turn it is no follow-up
    lines = [r.fields for r in caplog.records if r.getMessage() == "turn"]  # type: ignore[attr-defined]
    assert [(f["conversation"], f["skill"], f["route"]) for f in lines] == [
        ("api:c1", "returns", "classifier"), ("api:c1", "returns", "follow-up")]


@pytest.mark.parametrize("skills", [[], [{"name": "hours", "description": "Opening hours",
                                          "examples": ["when are you open"]}]])
async def test_bots_with_zero_or_one_skill_answer_route_and_say_what_they_can_do(
    bot_dir: Path, skills: list[dict[str, object]],
) -> None:
    config = configure(bot_dir, skills=skills)
    async with Bot.open(config) as bot:
        documents = await bot.handle(inbound("how much does express shipping cost?"))
        hours = await bot.handle(inbound("when are you open on sunday?", conversation="c2"))
        unrelated = await bot.handle(inbound("who won the football match?", conversation="c3"))
    assert "$14.95" in documents.text and documents.skill is None
    assert "Sunday from 10 am to 5 pm" in hours.text
    assert hours.skill == ("hours" if skills else None)
    assert unrelated.text == out_of_scope_text(config)
    assert unrelated.text.endswith("I can help with: opening hours.") == bool(skills)
