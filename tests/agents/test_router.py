"""The skill router: the classifier on the example bot's skills, and the router model."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.config import ModelSpec, RouterConfig
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.models import chat_model
from parley_bot.agents.router import THRESHOLD, SkillRouter
from parley_bot.agents.skills import AnswerSkill
from tests.conftest import stub_model
from tests.utils.openai_stub import OpenAIStub

EXAMPLE_BOT = Path(__file__).parents[2] / "flows.yaml"


@pytest.mark.parametrize(("text", "skill"), [
    ("how long do I have to return boots?", "returns"),
    ("I'd like a refund for my jacket", "returns"),
    ("can I exchange boots for a bigger size", "returns"),
    ("are you open on sunday?", "store_info"),
    ("where is my order", "order_status"),
    ("which tent is best for two people?", "product_advice"),
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


def test_two_skills_route_and_one_skill_uses_its_examples_alone() -> None:
    two = SkillRouter([AnswerSkill(name="returns", examples=["I want a refund"]),
                       AnswerSkill(name="hours", examples=["when are you open"])])
    assert two.route("are you open on sunday").skill == "hours"
    assert two.route("I'd like a refund please").skill == "returns"
    one = SkillRouter([AnswerSkill(name="hours", examples=["when are you open"])])
    assert one.route("when are you open tomorrow").skill == "hours"
    assert one.route("what is the weather on mars").skill is None


async def test_the_router_model_decides_only_inside_the_ambiguous_band(
    openai_stub: OpenAIStub,
) -> None:
    skills = load_flows(EXAMPLE_BOT).skills
    model = chat_model(ModelSpec.model_validate(stub_model(openai_stub)))
    openai_stub.reply = lambda request: "returns"
    everything = RouterConfig(threshold=-10, ambiguous=100)
    decided = await SkillRouter(skills, everything, model).aroute("how much is shipping?")
    assert (decided.skill, decided.by) == ("returns", "model")
    assert decided.candidates[0] == "shipping" and "returns" in decided.candidates
    assert "- shipping: Delivery times" in openai_stub.requests[0]["messages"][0]["content"]
    openai_stub.reply = lambda request: "none"
    assert (await SkillRouter(skills, everything, model).aroute("hi")).skill is None
    confident = await SkillRouter(skills, RouterConfig(ambiguous=0.01), model).aroute(
        "can I exchange boots for a bigger size")
    assert (confident.skill, confident.by) == ("returns", "classifier")
    assert len(openai_stub.requests) == 2
    openai_stub.mode = "error"
    kept = await SkillRouter(skills, everything, model).aroute("how much is shipping?")
    assert (kept.skill, kept.by) == ("shipping", "classifier")


# A bot with enough examples to calibrate its threshold: 8 skills, each asked about 48 ways.
TOPICS = {
    "returns": ["return my boots", "get a refund for my jacket", "send back the tent"],
    "shipping": ["ship to canada", "pay for express delivery", "get free shipping"],
    "hours": ["visit the store on sunday", "come in before 9 am", "shop on public holidays"],
    "payments": ["pay with paypal", "split the payment", "use a gift card at checkout"],
    "accounts": ["reset my password", "delete my account", "change my email address"],
    "warranty": ["claim the warranty on my stove", "repair a broken zip", "fix a torn seam"],
    "rentals": ["rent a kayak", "hire skis for a week", "borrow a climbing harness"],
    "events": ["join the trail running club", "sign up for a workshop", "book a guided hike"],
}
ASKING = ["how do I {}", "can I {}", "I want to {}", "is it possible to {}",
          "please help me {}", "what do I need to {}", "where can I {}", "could you let me {}",
          "I'd like to {}", "tell me how to {}", "is there a way to {}", "help, I need to {}",
          "how can we {}", "do you let customers {}", "what's the best way to {}",
          "any chance I could {}"]


def big_bot() -> list[AnswerSkill]:
    return [AnswerSkill(name=name, examples=[asking.format(task) for task in tasks
                                             for asking in ASKING])
            for name, tasks in TOPICS.items()]


def test_the_threshold_is_calibrated_on_held_out_examples_when_there_are_enough() -> None:
    router = SkillRouter(big_bot())
    assert router.threshold != THRESHOLD  # calibrated, not the fallback constant
    assert router.route("is it possible to send back the tent please").skill == "returns"
    assert router.route("my password needs a reset").skill == "accounts"
    assert router.route("could I rent a kayak for the weekend").skill == "rentals"
    for unrelated in ("what's the weather on mars", "who won the football match yesterday",
                      "write me a poem about the sea"):
        assert router.route(unrelated).skill is None, unrelated
    assert SkillRouter(big_bot(), RouterConfig(threshold=-5)).threshold == -5  # flows.yaml wins


def test_too_few_examples_keep_the_fixed_threshold() -> None:
    assert SkillRouter(load_flows(EXAMPLE_BOT).skills).threshold == THRESHOLD


def test_a_small_bot_routes_paraphrases_and_turns_away_the_unrelated() -> None:
    router = SkillRouter([
        AnswerSkill(name="hours", description="Opening hours",
                    examples=["when are you open", "what time do you close"]),
        AnswerSkill(name="returns", description="Returns and refunds",
                    examples=["how do I return something", "I want a refund"]),
        AnswerSkill(name="shipping", description="Delivery times and costs",
                    examples=["how much is shipping", "how long does delivery take"]),
    ])
    assert router.route("what time do you open on saturday").skill == "hours"
    assert router.route("can I get a refund on these boots").skill == "returns"
    assert router.route("how long will delivery take to spain").skill == "shipping"
    assert router.route("what is the capital of australia").skill is None
    assert router.route("tell me a joke").skill is None


@pytest.mark.parametrize("text", ["how long do I have to return boots?", "Zwroty?", "🙂",
                                  "what's the weather on mars", "are you open on sunday"])
def test_scores_are_sklearns_decision_function(text: str) -> None:
    """Routing reads the fitted TF-IDF and classifier itself (`_Tfidf`): the margins must be
    exactly what the sklearn pipeline it was fitted as gives."""
    router = SkillRouter(load_flows(EXAMPLE_BOT).skills)
    classifier = router._classifier
    assert classifier is not None
    margins = classifier.decision_function(router._features.transform([text]))[0]
    expected = sorted(zip(classifier.classes_, margins, strict=True), key=lambda item: -item[1])
    assert [name for name, _ in router.scores(text)] == [str(name) for name, _ in expected]
    assert [score for _, score in router.scores(text)] == pytest.approx(
        [float(score) for _, score in expected], abs=1e-12)
