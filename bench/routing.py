"""Skill routing on CLINC150: in-scope accuracy, out-of-scope recall and latency of parley's
router, beside a TF-IDF + LinearSVC baseline measured in the same run and the paper's table.

    python bench/routing.py [--data FILE] [--embeddings] [--json FILE]

One skill per intent, its examples the intent's `train` utterances (intent labels become
skill names: characters a name may not hold become '_'). Each `test` utterance is routed with
`SkillRouter.route`, the classifier alone, as the bot does it with no router model.
In-scope accuracy counts an in-scope utterance routed to its own intent (routing it nowhere
is wrong); out-of-scope recall counts `oos_test` utterances routed nowhere (Larson et al.,
2019). Latency is one routing call, p50 and p95 over the test set. The "no threshold" row is
the classifier's ceiling: every utterance goes to its best skill, none is out of scope.

Thresholds are never chosen on `test`. parley's "default threshold" row is the router as a bot
uses it, its threshold calibrated at load time from the training examples alone (see
`agents/router.py`); `--json` reports that row. For comparison, with `val` and `oos_val`
present, the threshold with the best in-scope accuracy on `val` among those reaching an
out-of-scope recall of `--oos-target` (0.75) on `oos_val` is shown too. The baseline is what a
careful user would build: word 1-2-grams and character 2-5-grams (TF-IDF, sublinear tf),
LinearSVC (C=1), its threshold on the best class's margin chosen the same way.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from parley_bot.agents.config import RouterConfig
from parley_bot.agents.router import SkillRouter
from parley_bot.agents.skills import AnswerSkill

DEFAULT_DATA = (Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150"
                / "data_full.json")
# Larson et al. 2019, Table 2, "Full" columns: (in-scope accuracy, out-of-scope recall).
PAPER = {
    "BERT (oos-train)": (0.969, 0.403), "MLP (oos-train)": (0.935, 0.474),
    "SVM (oos-train)": (0.910, 0.145), "BERT (oos-threshold)": (0.962, 0.523),
    "MLP (oos-threshold)": (0.934, 0.491), "SVM (oos-threshold)": (0.882, 0.180),
}
Scorer = Callable[[str], tuple[str | None, float]]  # text → (best label, its confidence)
Split = list[tuple[str, str]]


def skill_names(labels: Sequence[str]) -> dict[str, str]:
    """A valid, unique skill name for each intent label."""
    names: dict[str, str] = {}
    for label in sorted(set(labels)):
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_") or "intent"
        name, n = base, 1
        while name in names.values():
            n += 1
            name = f"{base}_{n}"
        names[label] = name
    return names


def score_all(scorer: Scorer, texts: Sequence[str]) -> tuple[list[str | None], np.ndarray,
                                                              list[float]]:
    labels, scores, times = [], [], []
    for text in texts:
        started = time.perf_counter()
        label, score = scorer(text)
        times.append((time.perf_counter() - started) * 1000)
        labels.append(label)
        scores.append(score)
    return labels, np.array(scores), times


def choose_threshold(scorer: Scorer, val: Split, oos_val: Split, target: float) -> float | None:
    """Best in-scope accuracy on `val` among thresholds reaching `target` recall on `oos_val`."""
    if not val or not oos_val:
        return None
    labels, scores, _ = score_all(scorer, [t for t, _ in val])
    right = np.array([p == gold for p, (_, gold) in zip(labels, val, strict=True)])
    _, oos_scores, _ = score_all(scorer, [t for t, _ in oos_val])
    best: tuple[float, float] | None = None
    for threshold in np.unique(np.concatenate([scores, oos_scores])):
        if np.mean(oos_scores < threshold) >= target:
            accuracy = float(np.mean(right & (scores >= threshold)))
            if best is None or accuracy > best[0]:
                best = (accuracy, float(threshold))
    return best[1] if best else None


@dataclass(frozen=True)
class Measured:
    """One scorer's decisions on the test split, before any threshold."""

    right: np.ndarray  # in-scope utterance: its own intent came out best
    scores: np.ndarray
    oos_scores: np.ndarray
    times: list[float]


def measure(scorer: Scorer, test: Split, oos_test: Split) -> Measured:
    labels, scores, times = score_all(scorer, [t for t, _ in test])
    _, oos_scores, oos_times = score_all(scorer, [t for t, _ in oos_test])
    right = np.array([p == gold for p, (_, gold) in zip(labels, test, strict=True)])
    return Measured(right, scores, oos_scores, times + oos_times)


def figures(measured: Measured, threshold: float) -> dict[str, float]:
    quantiles = statistics.quantiles(measured.times, n=20)
    recall = float(np.mean(measured.oos_scores < threshold)) if len(measured.oos_scores) else 0.0
    return {"in_scope_accuracy": round(float(np.mean(measured.right
                                                     & (measured.scores >= threshold))), 4),
            "oos_recall": round(recall, 4),
            "p50_ms": round(statistics.median(measured.times), 3),
            "p95_ms": round(quantiles[18], 3), "threshold": round(threshold, 4)}


def build_skills(train: Split, names: dict[str, str]) -> list[AnswerSkill]:
    """One answer skill per intent, its examples the intent's training utterances."""
    examples: dict[str, list[str]] = {}
    for text, label in train:
        examples.setdefault(names[label], []).append(text)
    return [AnswerSkill(name=name, examples=texts) for name, texts in examples.items()]


def parley_scorer(train: Split, names: dict[str, str], embeddings: bool) -> tuple[Scorer, float]:
    skills = build_skills(train, names)
    router = SkillRouter(skills, RouterConfig(embeddings="on" if embeddings else "off"))
    by_name = {v: k for k, v in names.items()}

    def score(text: str) -> tuple[str | None, float]:
        ranked = router.scores(text)
        return by_name[ranked[0][0]], ranked[0][1]

    return score, router.threshold


def baseline_scorer(train: Split) -> Scorer:
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
    ])
    classifier = LinearSVC(C=1.0).fit(features.fit_transform([t for t, _ in train]),
                                      [label for _, label in train])

    def score(text: str) -> tuple[str | None, float]:
        margins = classifier.decision_function(features.transform([text]))[0]
        best = int(np.argmax(margins))
        return str(classifier.classes_[best]), float(margins[best])

    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--embeddings", action="store_true",
                        help="parley's router with sentence embeddings (parley-bot[embeddings])")
    parser.add_argument("--oos-target", type=float, default=0.75,
                        help="out-of-scope recall the threshold must reach on oos_val")
    parser.add_argument("--json", type=Path, help="write parley's figures here")
    args = parser.parse_args()
    data: dict[str, Any] = json.loads(args.data.read_text(encoding="utf-8"))
    split = {key: [(str(t), str(label)) for t, label in data.get(key, [])]
             for key in ("train", "val", "oos_val", "test", "oos_test")}
    names = skill_names([label for _, label in split["train"]])
    router_name = "words+chars" + ("+embeddings" if args.embeddings else "")

    started = time.perf_counter()
    parley, default = parley_scorer(split["train"], names, args.embeddings)
    fit_s = time.perf_counter() - started
    baseline = baseline_scorer(split["train"])
    rows: dict[str, dict[str, float]] = {}
    test = (split["test"], split["oos_test"])
    parley_test, baseline_test = measure(parley, *test), measure(baseline, *test)
    rows[f"parley {router_name}, default threshold (calibrated at load)"] = figures(
        parley_test, default)
    tuned = choose_threshold(parley, split["val"], split["oos_val"], args.oos_target)
    if tuned is not None:
        rows[f"parley {router_name}, threshold from val"] = figures(parley_test, tuned)
    rows[f"parley {router_name}, no threshold (its ceiling)"] = figures(parley_test, -np.inf)
    base_threshold = choose_threshold(baseline, split["val"], split["oos_val"], args.oos_target)
    rows["baseline tf-idf + LinearSVC" + (", threshold from val" if base_threshold is not None
                                          else ", threshold 0")] = figures(
        baseline_test, base_threshold if base_threshold is not None else 0.0)

    table = Table(title=f"Routing on {args.data.name}: {len(names)} skills, "
                        f"{len(split['test'])} in-scope + {len(split['oos_test'])} "
                        f"out-of-scope test utterances (fit {fit_s:.1f} s)")
    for column in ("router", "in-scope acc", "oos recall", "p50 ms", "p95 ms", "threshold"):
        table.add_column(column, justify="left" if column == "router" else "right")
    for name, row in rows.items():
        table.add_row(name, f"{row['in_scope_accuracy']:.3f}", f"{row['oos_recall']:.3f}",
                      f"{row['p50_ms']:.2f}", f"{row['p95_ms']:.2f}", f"{row['threshold']:.3f}")
    for name, (accuracy, recall) in PAPER.items():
        table.add_row(f"paper: {name}", f"{accuracy:.3f}", f"{recall:.3f}", "", "", "")
    Console(width=120).print(table)
    if args.json:
        chosen = next(iter(rows.values()))
        args.json.write_text(json.dumps({
            "in_scope_accuracy": chosen["in_scope_accuracy"], "oos_recall": chosen["oos_recall"],
            "p50_ms": chosen["p50_ms"], "p95_ms": chosen["p95_ms"], "router": router_name,
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
