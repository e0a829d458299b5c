"""The eval runner in process: the LLM judge (a stand-in server named in eval.models), its
verdicts cached with the answers, and tools answered only from a case's canned results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley_bot.agents.config import ModelSpec
from parley_bot.agents.evals.cache import EvalCache
from parley_bot.agents.evals.cases import Case, EvalCase
from parley_bot.agents.evals.runner import run_eval
from tests.conftest import configure, stub_model
from tests.utils.openai_stub import OpenAIStub


def _case(name: str, **turn: Any) -> Case:
    return Case(id=name, case=EvalCase.model_validate({"turns": [turn]}))


def _verdict(request: dict[str, Any]) -> str:
    return "PASS: it names the time limit" if "60 days" in request["messages"][-1]["content"] \
        else "FAIL: no time limit"


async def test_the_judge_grades_and_its_verdicts_are_cached(bot_dir: Path,
                                                            openai_stub: OpenAIStub) -> None:
    openai_stub.reply = _verdict
    config = configure(bot_dir, eval={"models": [stub_model(openai_stub, name="openai:judge")]})
    judge = {"model": "openai:judge", "rubric": "Says how long returns are accepted"}
    cases = [_case("boots", user="how long do I have to return boots?", judge=judge),
             _case("mars", user="what is the weather on mars?", judge=judge)]
    run = await run_eval(config, cases, [ModelSpec()], concurrency=2, cache=EvalCache(config))
    results = {r.case.id: r for r in run.results["extractive"]}
    assert results["boots"].passed and not results["mars"].passed
    check = results["mars"].checks[0][0]
    assert check.kind == "judge" and check.got.startswith("FAIL: no time limit")
    assert len(openai_stub.requests) == 2
    rubric = openai_stub.requests[0]["messages"][1]["content"]
    assert rubric.startswith("Rubric: Says how long returns are accepted")
    again = await run_eval(config, cases, [ModelSpec()], concurrency=2, cache=EvalCache(config))
    assert len(openai_stub.requests) == 2 and all(r.cached for r in again.results["extractive"])
    assert [r.passed for r in again.results["extractive"]] == [True, False]


async def test_failed_model_and_judge_calls_are_asked_again_next_run(
        bot_dir: Path, openai_stub: OpenAIStub) -> None:
    """A model or judge that was down must not leave its failure in the cache."""
    spec = stub_model(openai_stub, name="openai:flaky")
    config = configure(bot_dir, eval={"models": [spec]})
    judge = {"model": "openai:flaky", "rubric": "Says how long returns are accepted"}
    cases = [_case("boots", user="how long do I have to return boots?", judge=judge)]
    model = ModelSpec.model_validate(spec)
    openai_stub.mode = "error"
    down = await run_eval(config, cases, [model, ModelSpec()], concurrency=2,
                          cache=EvalCache(config))
    assert down.results["openai:flaky"][0].error
    assert "could not be asked" in down.results["extractive"][0].checks[0][-1].got
    openai_stub.mode = "ok"
    openai_stub.reply = lambda request: "PASS: returns within 60 days"
    asked = len(openai_stub.requests)
    again = await run_eval(config, cases, [model, ModelSpec()], concurrency=2,
                           cache=EvalCache(config))
    assert not again.results["openai:flaky"][0].cached  # its failure was not kept
    assert again.results["extractive"][0].cached  # its answer was; its judge is asked again
    assert len(openai_stub.requests) >= asked + 2
    assert again.results["extractive"][0].passed


async def test_eval_turns_stay_out_of_the_prompt_log(bot_dir: Path,
                                                     openai_stub: OpenAIStub) -> None:
    """The prompt log becomes training data (`parley export`): eval questions are not
    conversations and must not end up in it."""
    spec = stub_model(openai_stub, name="openai:model")
    config = configure(bot_dir, model=spec, log_prompts={"enabled": True})
    run = await run_eval(config, [_case("boots", user="how long do I have to return boots?")],
                         [ModelSpec.model_validate(spec)], concurrency=1)
    assert openai_stub.requests and not run.results["openai:model"][0].error
    assert not config.path(config.log_prompts.path).exists()


async def test_tools_answer_only_from_canned_results(bot_dir: Path) -> None:
    config = configure(bot_dir)
    turns = [{"user": "where is my order 10045"}, {"user": "jane@example.com"}]
    canned = Case(id="canned", case=EvalCase.model_validate({
        "turns": turns, "tool_results": {"order_lookup": {
            "status": "shipped", "customer": {"email": "jane@example.com"}}}}))
    bare = Case(id="bare", case=EvalCase.model_validate({"turns": turns}))
    run = await run_eval(config, [canned, bare], [ModelSpec()], concurrency=2)
    results = {r.case.id: r for r in run.results["extractive"]}
    for case in ("canned", "bare"):  # the call is made and recorded either way
        assert [c.name for c in results[case].replies[1].calls] == ["order_lookup"]
        assert results[case].replies[1].calls[0].args == {"order_number": "10045"}
    assert "10045 is shipped" in results["canned"].replies[1].text
    assert "can't reach the system" in results["bare"].replies[1].text  # nothing external ran
