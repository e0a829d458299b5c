"""Scoring one turn's reply against what its eval turn expects.

Each check gives a `CheckResult` with what was expected and what came back, so a report can
show every failure. Checks are pure functions of the reply, except the LLM judge, which asks
the model its turn names.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel

from parley_bot.agents.evals.cases import NO_SKILL, EvalTurn, Judge

CheckKind = Literal["skill", "tools", "contains", "not_contains", "regex", "cites", "reference",
                    "judge", "error"]
_WORD = re.compile(r"\w+")


class ToolUse(BaseModel):
    """A tool call the bot made."""

    name: str
    args: dict[str, Any]


class TurnReply(BaseModel):
    """What came back for one turn: enough to score it again without asking the model."""

    text: str
    skill: str | None
    cites: list[str]
    """The uri and title of each citation."""
    calls: list[ToolUse]
    input_tokens: int
    output_tokens: int
    fallback: bool
    latency_s: float


class CheckResult(BaseModel):
    kind: CheckKind
    passed: bool
    expected: str
    got: str


def check_turn(turn: EvalTurn, reply: TurnReply) -> list[CheckResult]:
    """Every check `turn` sets, except the judge (see `judge_prompt`), on `reply`."""
    text = reply.text.lower()
    results: list[CheckResult] = []
    if turn.skill is not None:
        got = reply.skill or NO_SKILL
        results.append(CheckResult(kind="skill", passed=got == turn.skill, expected=turn.skill,
                                   got=got))
    if turn.tools is not None:
        made = [(c.name, c.args) for c in reply.calls]
        passed = len(made) == len(turn.tools) and all(
            any(name == e.name and _matches(e.args, args) for name, args in made)
            for e in turn.tools)
        results.append(CheckResult(
            kind="tools", passed=passed, got=_calls(made),
            expected=_calls([(e.name, e.args) for e in turn.tools])))
    results.extend(CheckResult(kind="contains", passed=want.lower() in text, expected=want,
                               got=reply.text) for want in turn.contains)
    results.extend(CheckResult(kind="not_contains", passed=bad.lower() not in text,
                               expected=f"not {bad!r}", got=reply.text)
                   for bad in turn.not_contains)
    results.extend(CheckResult(kind="regex", passed=re.search(pattern, reply.text) is not None,
                               expected=pattern, got=reply.text) for pattern in turn.regex)
    results.extend(CheckResult(kind="cites", passed=any(source in c for c in reply.cites),
                               expected=source, got=", ".join(reply.cites) or "no citation")
                   for source in turn.cites)
    if turn.reference is not None:
        metric = token_f1 if turn.reference.metric == "f1" else rouge_l
        score = metric(reply.text, turn.reference.text)
        results.append(CheckResult(
            kind="reference", passed=score >= turn.reference.threshold,
            expected=f"{turn.reference.metric} ≥ {turn.reference.threshold:g} against "
                     f"{turn.reference.text!r}", got=f"{score:.2f}: {reply.text}"))
    return results


def _matches(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    """Expected arguments are in the call, compared as text (a model may send 10045 or '10045')."""
    return all(key in got and str(got[key]).strip().lower() == str(value).strip().lower()
               for key, value in expected.items())


def _calls(calls: list[tuple[str, dict[str, Any]]]) -> str:
    return "; ".join(f"{name}({args})" for name, args in calls) or "no tool call"


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def token_f1(answer: str, reference: str) -> float:
    """SQuAD-style token F1 of `answer` against `reference`."""
    got, want = _tokens(answer), _tokens(reference)
    common = sum((Counter(got) & Counter(want)).values())
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def rouge_l(answer: str, reference: str) -> float:
    """ROUGE-L F-measure: the longest common subsequence of tokens."""
    got, want = _tokens(answer), _tokens(reference)
    if not got or not want:
        return 0.0
    previous = [0] * (len(want) + 1)
    for token in got:
        row = [0]
        for j, other in enumerate(want):
            row.append(previous[j] + 1 if token == other else max(previous[j + 1], row[j]))
        previous = row
    lcs = previous[-1]
    if not lcs:
        return 0.0
    precision, recall = lcs / len(got), lcs / len(want)
    return 2 * precision * recall / (precision + recall)


JUDGE_SYSTEM = ("You grade a customer assistant's reply against a rubric. Answer with PASS or "
                "FAIL on the first line, then one sentence why.")


def judge_messages(judge: Judge, question: str, reply: str) -> list[tuple[str, str]]:
    """The judge's prompt, as (role, content) pairs."""
    return [("system", JUDGE_SYSTEM),
            ("user", f"Rubric: {judge.rubric}\n\nCustomer: {question}\n\nReply: {reply}")]


def judge_verdict(judge: Judge, answer: str, verdict: str) -> CheckResult:
    """The judge's answer as a check result: PASS on its first line passes."""
    passed = verdict.strip().upper().startswith("PASS")
    return CheckResult(kind="judge", passed=passed, expected=judge.rubric,
                       got=f"{verdict.strip()} — {answer}")
