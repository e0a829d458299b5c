"""bench/eval_clinc.py on a tiny file in CLINC150's layout: the eval path and the router alone
agree on utterances both route right."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "eval_clinc.py"


def test_routes_through_the_eval_path_beside_the_router_alone(tmp_path: Path) -> None:
    train = [[f"{verb} my {thing} please", f"{verb}_{thing}"]
             for verb in ("track", "cancel") for thing in ("order", "parcel", "boots")]
    test = [["please track my parcel", "track_parcel"], ["cancel my boots", "cancel_boots"]]
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps({"train": train * 3, "test": test,
                                "oos_test": [["what is the capital of peru", "oos"]]}))
    out = tmp_path / "figures.json"
    run = subprocess.run([sys.executable, str(BENCH), "--data", str(data), "--json", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    figures = json.loads(out.read_text())
    assert figures == {"eval": {"in_scope_accuracy": 1.0, "oos_recall": 1.0},
                       "routing": {"in_scope_accuracy": 1.0, "oos_recall": 1.0}}
