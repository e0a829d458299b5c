"""`parley eval`'s routing accuracy on CLINC150's test set, beside bench/routing.py's figure
for the same utterances, measured in the same run.

    python bench/eval_clinc.py [--data FILE] [--every N] [--concurrency N] [--json FILE]

The bot has one answer skill per intent, built from the `train` utterances as bench/routing.py
builds them, and one document per intent holding those same utterances: an answer skill
whose question finds no document answers out of scope, with no skill, and the reply's skill
is what `parley eval` scores. Each test utterance is one eval case (a one-turn conversation)
expecting its intent's skill, and each `oos_test` utterance one expecting no skill; the cases
run through `agents.evals.runner.run_eval` with the extractive model, the code path of
`parley eval` on a user's eval set: the whole turn graph on the Bot. Small talk is answered
before routing there, so utterances of CLINC's greeting, goodbye and thank-you intents get no
skill in the bot: the two figures differ by that much. `--every N` keeps every Nth utterance
(the full set is 5,500 turns through the graph).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from routing import DEFAULT_DATA, build_skills, figures, measure, parley_scorer, skill_names

from parley_bot.agents.config import FlowsConfig, KnowledgeConfig, KnowledgeSource, ModelSpec
from parley_bot.agents.evals.cases import NO_SKILL, Case, EvalCase, EvalTurn
from parley_bot.agents.evals.runner import CaseRun, run_eval


def cases(test: list[tuple[str, str]], oos: list[tuple[str, str]],
          names: dict[str, str]) -> list[Case]:
    """One eval case per utterance, expecting its intent's skill ('none' out of scope)."""
    labelled = [(text, names[label]) for text, label in test] + [(t, NO_SKILL) for t, _ in oos]
    return [Case(id=f"clinc#{n}", case=EvalCase(turns=[EvalTurn(user=text, skill=skill)]))
            for n, (text, skill) in enumerate(labelled)]


def routed_right(runs: list[CaseRun], out_of_scope: bool) -> float:
    """Share of cases (in scope, or out of scope) whose skill check passed."""
    chosen = [r for r in runs if (r.case.case.turns[0].skill == NO_SKILL) == out_of_scope]
    return sum(r.checks[0][0].passed for r in chosen) / len(chosen) if chosen else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--every", type=int, default=1, help="keep every Nth test utterance")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # one log line a turn is not what this prints
    data: dict[str, Any] = json.loads(args.data.read_text(encoding="utf-8"))
    split = {key: [(str(t), str(label)) for t, label in data.get(key, [])][::args.every]
             for key in ("test", "oos_test")}
    train = [(str(t), str(label)) for t, label in data["train"]]
    names = skill_names([label for _, label in train])

    scorer, default = parley_scorer(train, names, embeddings=False)
    direct = figures(measure(scorer, split["test"], split["oos_test"]), default)
    skills = build_skills(train, names)
    with tempfile.TemporaryDirectory() as root:  # the bot's documents and index live here
        documents = Path(root) / "knowledge"
        documents.mkdir()
        for skill in skills:
            (documents / f"{skill.name}.md").write_text(
                f"# {skill.name}\n\n" + "\n\n".join(skill.examples) + "\n", encoding="utf-8")
        config = FlowsConfig(name="clinc150", skills=skills, knowledge=KnowledgeConfig(
            sources=[KnowledgeSource(name="intents", path=documents)])).at(Path(root))
        started = time.perf_counter()
        run = asyncio.run(run_eval(config, cases(split["test"], split["oos_test"], names),
                                   [ModelSpec()], concurrency=args.concurrency))
        seconds = time.perf_counter() - started
    runs = run.results["extractive"]
    through_eval = {"in_scope_accuracy": routed_right(runs, out_of_scope=False),
                    "oos_recall": routed_right(runs, out_of_scope=True)}
    table = Table(title=f"Routing on {args.data.name}: {len(split['test'])} in-scope + "
                        f"{len(split['oos_test'])} out-of-scope test utterances")
    for column in ("path", "in-scope acc", "oos recall"):
        table.add_column(column, justify="left" if column == "path" else "right")
    table.add_row(f"parley eval (the Bot's turn graph, {seconds:.0f} s)",
                  f"{through_eval['in_scope_accuracy']:.3f}", f"{through_eval['oos_recall']:.3f}")
    table.add_row("bench/routing.py (router alone, default threshold)",
                  f"{direct['in_scope_accuracy']:.3f}", f"{direct['oos_recall']:.3f}")
    Console(width=120).print(table)
    if args.json:
        args.json.write_text(json.dumps({"eval": through_eval, "routing": {
            k: direct[k] for k in ("in_scope_accuracy", "oos_recall")}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
