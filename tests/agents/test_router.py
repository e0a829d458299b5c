"""The example-based skill router on the example bot's skills."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.router import SkillRouter
from parley_bot.agents.skills import AnswerSkill

EXAMPLE_BOT = Path(__file__).parents[2] / "flows.yaml"


@pytest.mark.parametrize(("text", "skill"), [
    ("how long do I have to return boots?", "returns"),
    ("I want my money back", "returns"),
    ("can I exchange boots for a bigger size", "returns"),
    ("are you open on sunday?", "store_info"),
    ("where is my order", "shipping"),
    ("how much does express shipping cost?", "shipping"),
    # One shared word with an example ('size') is not a match: general answer instead.
    ("what size backpack do I need?", None),
    ("what's the weather on mars", None),
    ("hello", None),
])
def test_routes_by_example_utterances(text: str, skill: str | None) -> None:
    assert SkillRouter(load_flows(EXAMPLE_BOT).skills).route(text).skill == skill


def test_no_skills_means_no_route() -> None:
    assert SkillRouter([]).route("how long do I have to return boots?").skill is None


def test_the_description_routes_too() -> None:
    router = SkillRouter([AnswerSkill(name="billing", description="invoices and payment methods")])
    assert router.route("can I change my payment method?").skill == "billing"
