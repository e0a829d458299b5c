"""Answers a stranger's documentation gets: right fact, right source, and how fast.

    python bench/answers.py [--data DIR] [--json FILE] [--limit N] [--quiet]

DIR holds `docs/` and `questions.yaml` (`q`, `source`, `any`), as `../shared/data/qa-valgrind/`
and `../shared/data/xquad/<lang>/` do (`source` may also list several pages that answer). A
bot is made with `parley init` whose `knowledge/docs/` holds exactly DIR/docs, with the
example bot's flows.yaml unchanged (default settings, the extractive responder, no language
named). Each question is asked in its own conversation, by its own sender.
A case's `answer` holds when the reply contains one of `any` (case-insensitive), its
`citation` when a citation names `source`, `both` when both do. Latency is one whole turn
(`Bot.handle`: guard, routing, retrieval, the answer, memory).

Beside it, in the same run and over the same index: the naive baseline, the top BM25 passage
quoted whole and cited (its latency is that one search).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.scaffold import init_bot
from parley_bot.channels.messages import InboundMessage
from parley_bot.knowledge.ingest import Ingestor

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa-valgrind"


@dataclass(frozen=True)
class Case:
    q: str
    sources: list[str]
    """The page that answers; a list where several do (any of them counts)."""
    any: list[str]


@dataclass(frozen=True)
class Outcome:
    answer: bool
    citation: bool
    ms: float

    @property
    def both(self) -> bool:
        return self.answer and self.citation


def load_cases(folder: Path) -> list[Case]:
    data = YAML(typ="safe").load((folder / "questions.yaml").read_text(encoding="utf-8"))
    return [Case(str(c["q"]), [str(s) for s in ([c["source"]] if isinstance(c["source"], str)
                                                 else c["source"])], [str(a) for a in c["any"]])
            for c in data]


def judge(case: Case, text: str, uris: list[str], ms: float) -> Outcome:
    lowered = text.lower()
    return Outcome(
        answer=any(a.lower() in lowered for a in case.any),
        citation=any(u == s or u.endswith("/" + s) for u in uris for s in case.sources),
        ms=ms,
    )


def make_bot(data: Path, folder: Path) -> Path:
    """`parley init` in `folder`, its example documents replaced by DIR/docs."""
    init_bot(folder)
    docs = folder / "knowledge" / "docs"
    shutil.rmtree(docs)
    shutil.copytree(data / "docs", docs)
    return folder / "flows.yaml"


async def ask_all(flows: Path, cases: list[Case]) -> tuple[list[Outcome], list[Outcome],
                                                          dict[str, float]]:
    config = load_flows(flows)
    started = time.perf_counter()
    store = await asyncio.to_thread(Ingestor(config.knowledge, config.root).open)
    ingest_s = time.perf_counter() - started
    parley: list[Outcome] = []
    baseline: list[Outcome] = []
    async with Bot.open(config, knowledge=store) as bot:
        await bot.handle(InboundMessage(channel="eval", conversation_id="warm-up",
                                        user_id="warm-up", text=cases[0].q))
        for n, case in enumerate(cases):
            # Each case its own sender too: one sender asking them all would be rate limited.
            message = InboundMessage(channel="eval", conversation_id=f"case-{n}",
                                     user_id=f"case-{n}", text=case.q)
            began = time.perf_counter()
            reply = await bot.handle(message)
            ms = (time.perf_counter() - began) * 1000
            parley.append(judge(case, reply.text, [c.uri for c in reply.citations], ms))
            began = time.perf_counter()
            top = store.search(case.q, 1)
            ms = (time.perf_counter() - began) * 1000
            baseline.append(judge(case, top[0].chunk.text if top else "",
                                  [p.chunk.uri for p in top], ms))
    return parley, baseline, {"ingest_s": ingest_s, "chunks": len(store.chunks)}


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    def share(test: Callable[[Outcome], bool]) -> float:
        return sum(map(test, outcomes)) / len(outcomes)

    latencies = [o.ms for o in outcomes]
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"cases": len(outcomes), "answer": share(lambda o: o.answer),
            "citation": share(lambda o: o.citation), "both": share(lambda o: o.both),
            "p50_ms": statistics.median(latencies), "p95_ms": cuts[94]}


def mark(ok: bool) -> str:
    return "✓" if ok else "·"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="a folder with docs/ and questions.yaml")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--limit", type=int, help="ask only the first N questions")
    parser.add_argument("--quiet", action="store_true", help="totals only, no line per case")
    args = parser.parse_args()
    if not (args.data / "questions.yaml").is_file() or not (args.data / "docs").is_dir():
        parser.error(f"{args.data} needs docs/ and questions.yaml; pass --data DIR")
    cases = load_cases(args.data)[:args.limit]
    with tempfile.TemporaryDirectory(prefix="parley-answers-") as tmp:
        flows = make_bot(args.data, Path(tmp) / "bot")
        parley, baseline, index = asyncio.run(ask_all(flows, cases))
    if not args.quiet:
        print("answer citation | baseline answer citation | question")
        for case, ours, naive in zip(cases, parley, baseline, strict=True):
            print(f"  {mark(ours.answer)}     {mark(ours.citation)}    |       "
                  f"{mark(naive.answer)}     {mark(naive.citation)}       | {case.q}")
    results = {**summary(parley), "baseline": summary(baseline)}
    print(f"\n{args.data}: {len(cases)} questions, {index['chunks']:.0f} chunks indexed "
          f"in {index['ingest_s']:.1f} s")
    print(f"{'':28}{'answer':>8}{'citation':>10}{'both':>7}{'p50 ms':>9}{'p95 ms':>9}")
    for name, row in (("parley (extractive)", results),
                      ("baseline: top passage whole", results["baseline"])):
        print(f"{name:28}{row['answer']:>8.3f}{row['citation']:>10.3f}{row['both']:>7.3f}"
              f"{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
