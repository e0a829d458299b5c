"""Eval files: the schema, the loader's located errors, and the checks on a reply."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from parley_bot.agents.config import EvalConfig, ModelSpec, Price
from parley_bot.agents.errors import ConfigError
from parley_bot.agents.evals.cases import EvalTurn, load_cases
from parley_bot.agents.evals.checks import TurnReply, check_turn, rouge_l, token_f1
from parley_bot.agents.evals.prices import price_of
from parley_bot.agents.flowsfile import load_flows
from tests.conftest import configure
from tests.utils.cli import parley

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["flows.yaml", "evals/cases.yaml", "agents/starter/flows.yaml",
                                  "agents/starter/evals/cases.yaml"])
def test_shipped_yaml_reads_the_same_in_other_parsers(name: str) -> None:
    """Teams edit these files with their own tools: they stay plain YAML that PyYAML reads
    too, not only the loader parley uses."""
    assert yaml.safe_load((REPO / name).read_text())


def _problems(bot_dir: Path, text: str) -> list[str]:
    (bot_dir / "evals" / "cases.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_cases(load_flows(bot_dir / "flows.yaml"))
    return [str(p) for p in caught.value.problems]


def test_the_example_set_loads_with_every_skill(bot_dir: Path) -> None:
    config = load_flows(bot_dir / "flows.yaml")
    cases = load_cases(config)
    assert len(cases) >= 30
    expected = {turn.skill for case in cases for turn in case.case.turns}
    assert {s.name for s in config.skills} | {"none"} <= expected


def test_problems_are_located_at_their_line_and_column(bot_dir: Path) -> None:
    problems = _problems(bot_dir, """\
- name: one
  turns:
    - user: hello
      skil: returns
- name: two
  turns:
    - user: where is my order
      reference: {text: x, metric: bleu}
      regex: ['(']
- turns: []
""")
    path = bot_dir / "evals" / "cases.yaml"
    assert problems == [
        f"{path}:4:7: [0].turns[0].skil: unknown key (did you mean 'skill'?)",
        f"{path}:8:36: [1].turns[0].reference.metric: Input should be 'f1' or 'rougeL' "
        "(got 'bleu')",
        f"{path}:9:14: [1].turns[0].regex: regex '(' does not compile: missing ), "
        "unterminated subpattern at position 0",
        f"{path}:10:10: [2].turns: List should have at least 1 item after validation, "
        "not 0 (got [])",
    ]


def test_a_repeated_name_and_a_malformed_judge_model_are_located(bot_dir: Path) -> None:
    problems = _problems(bot_dir, """\
- name: boots
  turns:
    - user: how long do I have to return boots?
      judge: {model: gpt4, rubric: names the time limit}
- name: boots
  turns:
    - user: and for tents?
""")
    path = bot_dir / "evals" / "cases.yaml"
    assert problems == [
        f"{path}:4:22: [0].turns[0].judge.model: model 'gpt4' is neither 'extractive' nor "
        "'provider:model' (e.g. 'openai:gpt-4o-mini')",
        f"{path}:5:9: [1].name: two cases are named 'boots'",
    ]


def test_skills_and_tools_must_be_the_bots(bot_dir: Path) -> None:
    problems = _problems(bot_dir, """\
- tool_results: {refund: {}}
  turns:
    - user: where is my order
      skill: order_stats
      tools: [{name: order_lookup}, {name: nope}]
""")
    path = bot_dir / "evals" / "cases.yaml"
    assert problems == [
        f"{path}:1:26: [0].tool_results.refund: unknown tool 'refund'",
        f"{path}:4:14: [0].turns[0].skill: unknown skill 'order_stats' (known: "
        "['order_status', 'product_advice', 'returns', 'shipping', 'store_info'] or 'none')",
        f"{path}:5:44: [0].turns[0].tools[1].name: unknown tool 'nope'",
    ]


def test_a_yaml_syntax_error_is_located(bot_dir: Path) -> None:
    problems = _problems(bot_dir, "- name: one\n  turns: [\n")
    assert len(problems) == 1 and ":2:11: YAML syntax" in problems[0]


def _reply(text: str, **extra: object) -> TurnReply:
    fields = {"skill": "returns", "cites": ["returns.md", "Returns"], "calls": [],
              "input_tokens": 0, "output_tokens": 0, "fallback": False, "latency_s": 0.1}
    return TurnReply.model_validate({"text": text, **fields, **extra})


def test_checks_report_what_was_expected_and_what_came_back() -> None:
    turn = EvalTurn.model_validate({
        "user": "q", "skill": "shipping", "contains": ["60 days", "refund"],
        "not_contains": "never", "regex": r"\d+ days", "cites": ["returns.md", "warranty.md"],
        "tools": [{"name": "order_lookup", "args": {"order_number": 10045}}],
        "reference": {"text": "You have 60 days to return items", "threshold": 0.5}})
    reply = _reply("You have 60 days to return most items [1].",
                   calls=[{"name": "order_lookup", "args": {"order_number": "10045"}}])
    results = {(r.kind, r.expected): r.passed for r in check_turn(turn, reply)}
    assert results == {
        ("skill", "shipping"): False, ("tools", "order_lookup({'order_number': 10045})"): True,
        ("contains", "60 days"): True, ("contains", "refund"): False,
        ("not_contains", "not 'never'"): True, ("regex", r"\d+ days"): True,
        ("cites", "returns.md"): True, ("cites", "warranty.md"): False,
        ("reference", "f1 ≥ 0.5 against 'You have 60 days to return items'"): True,
    }


def test_overlap_metrics() -> None:
    assert token_f1("the cat sat", "the cat sat") == 1.0
    assert token_f1("a b", "c d") == 0.0
    assert token_f1("cat sat on", "the cat sat") == pytest.approx(2 / 3)
    assert rouge_l("a b c d", "a c d") == pytest.approx(2 * (3 / 4) * 1 / (3 / 4 + 1))
    assert rouge_l("d c b a", "a b c d") == pytest.approx(0.25)


def test_a_bot_without_an_eval_set_has_no_cases_unless_it_names_one(bot_dir: Path) -> None:
    for file in (bot_dir / "evals").iterdir():
        file.unlink()
    (bot_dir / "evals").rmdir()
    assert load_cases(configure(bot_dir, eval={})) == []
    with pytest.raises(ConfigError, match="cannot read"):
        load_cases(configure(bot_dir, eval={"dataset": "evals/cases.yaml"}))


def test_parley_check_reports_eval_file_problems(bot_dir: Path) -> None:
    (bot_dir / "evals" / "cases.yaml").write_text("- turns:\n    - usr: hi\n")
    done = parley("check", cwd=bot_dir)
    assert done.returncode == 1
    assert f"{Path('evals') / 'cases.yaml'}:2:7: [0].turns[0].usr: unknown key" in done.stderr


def test_prices_come_from_flows_yaml_the_model_or_the_table() -> None:
    settings = EvalConfig(prices={"openai:mine": Price(in_per_mtok=1, out_per_mtok=2)})
    assert price_of(ModelSpec(name="openai:mine"), settings) == Price(in_per_mtok=1,
                                                                      out_per_mtok=2)
    assert price_of(ModelSpec(name="openai:gpt-4o-mini-2024-07-18"), settings) == Price(
        in_per_mtok=0.15, out_per_mtok=0.6)  # the longest listed prefix, not gpt-4o's
    assert price_of(ModelSpec(name="anthropic:claude-haiku-4-5"), settings).in_per_mtok == 1.0
    served = ModelSpec(name="openai:gpt-4o", base_url="http://gpu:8000/v1")
    assert price_of(served, settings) == Price()  # your own server: your own figure, or 0
    own = ModelSpec(name="openai:gpt-4o", price_in_per_mtok=3, price_out_per_mtok=4)
    assert price_of(own, settings) == Price(in_per_mtok=3, out_per_mtok=4)
