"""The extractive responder picks the passage and sentence a person would quote."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.extractive import ExtractiveResponder
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.models import Generation, Prompt
from parley_bot.knowledge.types import Chunk, Passage
from tests.utils.messages import inbound


def passage(uri: str, heading: str, text: str, score: float) -> Passage:
    chunk = Chunk(id=uri, source="docs", uri=uri, title="Manual", text=text,
                  heading_path=("Manual", heading), language="en")
    return Passage(chunk=chunk, score=score)


async def answer(question: str, passages: list[Passage],
                 weights: dict[str, float] | None = None) -> Generation:
    prompt = Prompt(messages=[], question=question, passages=passages, language="en")
    responder = ExtractiveResponder(weights=None if weights is None else weights.__getitem__)
    return await responder.generate(prompt, lambda _: None)


async def test_a_passage_the_index_ranks_level_with_the_first_can_answer() -> None:
    # The search can hardly tell the two apart (4.87 and 4.78): the sentence that holds more
    # of the question answers, though it came second.
    weights = {"flag": 3.5, "compil": 2.7, "befor": 2.2, "run": 1.5, "memcheck": 1.4,
               "program": 0.8}
    gdb = passage("gdb.html", "Limitations", "Some flags change what Memcheck sees when you "
                  "run it.", 4.87)
    start = passage("start.html", "Preparing", "Compile your program with -g before Memcheck.",
                    4.78)
    question = "What compiler flags should I use before running my program under Memcheck?"
    assert (await answer(question, [gdb, start], weights)).cited == (1,)
    # One the index ranks far below the first needs far more of the question to win.
    far = start.model_copy(update={"score": 0.5})
    assert (await answer(question, [gdb, far], weights)).cited == (0,)


async def test_distances_rank_passages_by_their_order() -> None:
    # A vector store's distances grow down the list: the order, not the value, says which is
    # first, and the first one answers an even match.
    near = passage("a.html", "Exit codes", "Valgrind exits with the code you give.", 0.1)
    far = passage("b.html", "Exit codes", "Valgrind exits with the code you give.", 0.9)
    assert (await answer("what exit code does valgrind use?", [near, far])).cited == (0,)


async def test_a_hyphenated_word_weighs_as_much_as_one_word() -> None:
    # 'non-zero' is one word of the question, not two: 'exit' and 'code' say more.
    progress = passage("core.html", "Progress", "When set to a non-zero value, a summary "
                       "is printed.", 7.0)
    exitcode = passage("core.html", "Errors", "Specifies the exit code to return.", 7.0)
    reply = await answer("How do I exit with a non-zero code?", [progress, exitcode])
    assert reply.cited == (1,) and "exit code" in reply.text


@pytest.mark.parametrize("question", ["How long do I have to send an item back?",
                                      "How big is the queue of freed items?",
                                      "When can I send an item back?"])
async def test_a_question_asking_for_a_number_is_answered_with_one(question: str) -> None:
    rules = passage("returns.md", "Sending items back", "Items sent back must be unused, "
                    "and freed from a queue of checks.", 5.0)
    limits = passage("returns.md", "Time limits", "You can send an item back for 60 days; "
                     "the queue of freed items holds twenty items.", 5.0)
    reply = await answer(question, [rules, limits])
    assert reply.cited == (1,)


async def test_a_question_not_asking_for_a_number_keeps_the_best_match() -> None:
    rules = passage("returns.md", "Sending items back", "Items sent back must be unused.", 5.0)
    limits = passage("returns.md", "Time limits", "Send it within 60 days.", 5.0)
    assert (await answer("Can I send back used items?", [rules, limits])).cited == (0,)


@pytest.mark.parametrize(("question", "document", "section"), [
    ("how long do I have to return an item", "returns.md", "Returns › Time limits"),
    ("how long do I have to return boots?", "returns.md", "Returns › Time limits"),
    ("exchange for a different size", "returns.md", "Returns › Exchanges"),
    ("I want a refund", "returns.md", "Returns › How to start a return"),
    ("how much is shipping", "shipping.md", "Shipping › Shipping costs"),
    ("is express delivery available", "shipping.md", "Shipping › Delivery times"),
    ("when are you open", "store-hours.md", "Store hours and locations › Opening hours"),
    ("hours?", "store-hours.md", "Store hours and locations › Opening hours"),
    ("do you do boot fitting", "store-hours.md",
     "Store hours and locations › In-store services"),
])
async def test_the_example_bot_cites_the_section_that_answers(
        bot_dir: Path, question: str, document: str, section: str) -> None:
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        reply = await bot.handle(inbound(question))
    assert [(c.uri, c.location) for c in reply.citations] == [(document, section)]
