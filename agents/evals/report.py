"""Scores, costs and latencies of one eval run per model, checked against the targets.

`summarize` turns a `Run` into one `ModelScore` per model, ranked best first (accuracy, then
cost, then p95 latency); `as_json` is the machine-readable report `--json` writes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from parley_bot.agents.config import EvalConfig, EvalTargets
from parley_bot.agents.evals.prices import cost, price_of
from parley_bot.agents.evals.runner import CaseRun, Run
from parley_bot.channels.messages import Usage


@dataclass
class ModelScore:
    """One model's figures over the whole evaluation set."""

    model: str
    cases: int
    passed: int
    accuracy: float
    by_check: dict[str, float]
    """Check kind → share of such checks passed."""
    routing_accuracy: float | None
    tool_accuracy: float | None
    p50_s: float
    p95_s: float
    input_tokens: int
    output_tokens: int
    cost_per_1k_conversations: float
    errors: int
    cached: int
    meets: dict[str, bool] = field(default_factory=dict)
    failures: list[CaseRun] = field(default_factory=list)


@dataclass
class Summary:
    scores: list[ModelScore]
    cheapest_meeting_accuracy: str | None
    production: str
    cases: int

    @property
    def production_misses(self) -> list[str]:
        """The targets the production model (flows.yaml `model`) misses, if it was run."""
        score = next((s for s in self.scores if s.model == self.production), None)
        return [name for name, met in score.meets.items() if not met] if score else []


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _share(passed: int, total: int) -> float | None:
    return passed / total if total else None


def score(runs: list[CaseRun], settings: EvalConfig, spec_price: Any) -> ModelScore:
    """The figures of one model's runs; `spec_price` prices its usage."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for run in runs:
        for turn in run.checks:
            for check in turn:
                counts[check.kind][0] += check.passed
                counts[check.kind][1] += 1
    latencies = [r.latency_s for run in runs for r in run.replies]
    tokens_in = sum(r.input_tokens for run in runs for r in run.replies)
    tokens_out = sum(r.output_tokens for run in runs for r in run.replies)
    spent = cost(Usage(model="", input_tokens=tokens_in, output_tokens=tokens_out), spec_price)
    passed = sum(run.passed for run in runs)
    model = runs[0].model if runs else ""
    result = ModelScore(
        model=model, cases=len(runs), passed=passed, accuracy=passed / len(runs) if runs else 0,
        by_check={kind: p / t for kind, (p, t) in sorted(counts.items())},
        routing_accuracy=_share(*counts["skill"]) if "skill" in counts else None,
        tool_accuracy=_share(*counts["tools"]) if "tools" in counts else None,
        p50_s=percentile(latencies, 0.5), p95_s=percentile(latencies, 0.95),
        input_tokens=tokens_in, output_tokens=tokens_out,
        cost_per_1k_conversations=spent / len(runs) * 1000 if runs else 0.0,
        errors=sum(run.error for run in runs), cached=sum(run.cached for run in runs),
        failures=[run for run in runs if not run.passed])
    result.meets = meets(result, settings.targets)
    return result


def meets(result: ModelScore, targets: EvalTargets) -> dict[str, bool]:
    """Each configured target → whether the model reaches it."""
    checks: dict[str, bool] = {}
    if targets.accuracy is not None:
        checks["accuracy"] = result.accuracy >= targets.accuracy
    if targets.cost_per_1k_conversations is not None:
        checks["cost_per_1k_conversations"] = (result.cost_per_1k_conversations
                                               <= targets.cost_per_1k_conversations)
    if targets.p95_latency_ms is not None:
        checks["p95_latency_ms"] = result.p95_s * 1000 <= targets.p95_latency_ms
    return checks


def summarize(run: Run, settings: EvalConfig, production: str) -> Summary:
    """Score every model of `run`, best first, and name the cheapest that meets the accuracy
    target (any model, when no accuracy target is set)."""
    scores = [score(run.results.get(spec.name, []), settings, price_of(spec, settings))
              for spec in run.models]
    scores.sort(key=lambda s: (-s.accuracy, s.cost_per_1k_conversations, s.p95_s))
    good = [s for s in scores if s.meets.get("accuracy", True)]
    cheapest = min(good, key=lambda s: (s.cost_per_1k_conversations, s.p95_s), default=None)
    return Summary(scores, cheapest.model if cheapest else None, production, len(run.cases))


def as_json(summary: Summary) -> dict[str, Any]:
    """The report `parley eval --json` writes."""
    return {
        "models": [{
            "model": s.model, "accuracy": s.accuracy, "routing_accuracy": s.routing_accuracy,
            "tool_accuracy": s.tool_accuracy, "p50_s": s.p50_s, "p95_s": s.p95_s,
            "cost_per_1k_conversations": s.cost_per_1k_conversations, "errors": s.errors,
            "meets": s.meets,
        } for s in summary.scores],
        "cheapest_meeting_accuracy": summary.cheapest_meeting_accuracy,
        "cases": summary.cases,
    }
