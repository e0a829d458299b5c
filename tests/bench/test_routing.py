"""bench/routing.py on a tiny file in CLINC150's layout, with labels skill names can't hold and
no val or out-of-scope splits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "routing.py"


def test_runs_without_val_or_oos_splits_and_maps_labels(tmp_path: Path) -> None:
    train = [[f"{verb} my {thing}", f"{verb}/{thing} ü"]
             for verb in ("track", "return", "cancel") for thing in ("order", "parcel", "boots")]
    test = [["please track my order", "track/order ü"], ["cancel my boots", "cancel/boots ü"]]
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps({"train": train * 2, "test": test}))
    out = tmp_path / "figures.json"
    run = subprocess.run([sys.executable, str(BENCH), "--data", str(data), "--json", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "default threshold" in run.stdout and "threshold from val" not in run.stdout
    figures = json.loads(out.read_text())
    assert set(figures) == {"in_scope_accuracy", "oos_recall", "p50_ms", "p95_ms", "router"}
    assert figures["in_scope_accuracy"] == 1.0 and figures["router"] == "words+chars"
