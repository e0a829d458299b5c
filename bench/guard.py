"""The guard's injection screen: how much it refuses of injections it was not written from,
and how much of ordinary traffic it refuses by mistake.

    python bench/guard.py [--held-out FILE]... [--benign FILE]... [--clinc FILE]
                          [--xquad DIR] [--json FILE]

Refusal rate: `--held-out FILE`, injections nobody looked at while writing the patterns (a
YAML list of {text, lang}); only this figure says how the screen does on injections it has
not seen. The `design` injections of bench/data/injections.yaml are shown too, as a
regression check only: the patterns were written from them. False refusals: `--benign FILE`
(ordinary messages in the same format), the example bot's own questions (evals/cases.yaml
and the skills' examples in flows.yaml), the `benign` messages of the data file (customer
messages sharing words with injections), and, when the shared copy is there, every CLINC150
test utterance (in and out of scope: 5,500 ordinary requests to an assistant) and XQuAD's
questions (1,190 in each of six languages). Beside parley's screen, in the same run, the
baseline most bots start with: a list of English phrases ('ignore previous instructions',
'system prompt', …) searched for in the lower-cased message. Time is per message, median,
for the record only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from parley_bot.agents.evals.cases import user_messages
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.screen import injection

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "injections.yaml"
CLINC = next((path for path in (ROOT.parent / "shared" / "data" / "clinc150" / "data_full.json",
                                ROOT.parents[1] / "shared" / "data" / "clinc150" / "data_full.json")
              if path.exists()), ROOT.parent / "shared" / "data" / "clinc150" / "data_full.json")
"""The shared copy, beside the checkout or beside its worktree folder."""
XQUAD = CLINC.parents[1] / "xquad"
BASELINE_PHRASES = ("ignore previous instructions", "ignore all previous instructions",
                    "ignore the above", "disregard previous instructions", "system prompt",
                    "developer mode", "jailbreak", "you are now dan")
Screen = Callable[[str], bool]


def baseline(text: str) -> bool:
    """The usual first screen: English phrases, searched for as they are."""
    lowered = text.lower()
    return any(phrase in lowered for phrase in BASELINE_PHRASES)


def parley(text: str) -> bool:
    return injection(text) is not None


def messages(path: Path) -> list[str]:
    """The texts of a YAML list of {text, lang}.

    Raises:
        SystemExit: the file is not such a list.
    """
    items = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("text"), str) for item in items):
        raise SystemExit(f"{path}: expected a YAML list of {{text, lang}}")
    return [item["text"] for item in items]


def _label(kind: str, path: Path, paths: Sequence[Path]) -> str:
    """`kind`, and which file when several are measured."""
    return kind if len(paths) == 1 else f"{kind} ({path})"


def sets(clinc: Path | None, held_out: Sequence[Path] = (), benign: Sequence[Path] = (),
         xquad: Path | None = None) -> dict[str, tuple[list[str], bool]]:
    """Each measured set: its messages, and whether they are injections."""
    data = yaml.safe_load(DATA.read_text("utf-8"))
    config = load_flows(ROOT / "flows.yaml")
    own = user_messages(config)
    own += [example for skill in config.skills for example in skill.examples]
    measured: dict[str, tuple[list[str], bool]] = {}
    for path in held_out:
        measured[_label("held-out injections", path, held_out)] = (messages(path), True)
    measured["design injections (tuned on)"] = (data["design"], True)
    for path in benign:
        measured[_label("held-out ordinary messages", path, benign)] = (messages(path), False)
    measured["example bot's questions"] = (own, False)
    measured["benign look-alikes (tuned on)"] = (data["benign"], False)
    if clinc is not None and clinc.exists():
        full = json.loads(clinc.read_text("utf-8"))
        measured["CLINC150 test (ordinary)"] = (
            [text for text, _ in full["test"] + full["oos_test"]], False)
    questions = sorted(xquad.glob("*/questions.yaml")) if xquad is not None else []
    if questions:
        measured[f"XQuAD questions ({', '.join(path.parent.name for path in questions)})"] = (
            [case["q"] for path in questions for case in yaml.safe_load(path.read_text("utf-8"))],
            False)
    return measured


def measure(screen: Screen, texts: Sequence[str]) -> tuple[float, float]:
    """(share refused, median µs per message)."""
    times, refused = [], 0
    for text in texts:
        started = time.perf_counter()
        refused += screen(text)
        times.append((time.perf_counter() - started) * 1e6)
    return refused / len(texts), statistics.median(times)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clinc", type=Path, default=CLINC, help="CLINC150 data_full.json")
    parser.add_argument("--xquad", type=Path, default=XQUAD,
                        help="XQuAD folder: its questions in each language are ordinary messages")
    parser.add_argument("--held-out", type=Path, action="append", default=[],
                        help="injections nobody tuned on: a YAML list of {text, lang} "
                             "(repeatable)")
    parser.add_argument("--benign", type=Path, action="append", default=[],
                        help="ordinary messages nobody tuned on: a YAML list of {text, lang} "
                             "(repeatable)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    table = Table(title="Injection screen: share of messages refused")
    table.add_column("set")
    table.add_column("messages", justify="right")
    screens = {"parley": parley, "baseline (English phrases)": baseline}
    for name in screens:
        table.add_column(name, justify="right")
    results: dict[str, Any] = {}
    for label, (texts, harmful) in sets(args.clinc, args.held_out, args.benign, args.xquad).items():
        row = {name: measure(screen, texts) for name, screen in screens.items()}
        results[label] = {"messages": len(texts), "injections": harmful,
                          **{name: {"refused": rate, "median_us": us}
                             for name, (rate, us) in row.items()}}
        table.add_row(label, str(len(texts)),
                      *(f"{rate:.1%} ({us:.0f} µs)" for rate, us in row.values()))
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), "utf-8")
    return results


if __name__ == "__main__":
    main()
