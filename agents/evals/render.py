"""The eval report for people: a rich table for the terminal and a self-contained HTML page
(inline SVG scatter plots, no script, nothing fetched) with every failed case."""

from __future__ import annotations

from html import escape

from rich.table import Table

from parley_bot.agents.evals.checks import CheckResult
from parley_bot.agents.evals.report import ModelScore, Summary


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _mark(score: ModelScore, target: str) -> str:
    if target not in score.meets:
        return ""
    return " ✓" if score.meets[target] else " ✗"


def table(summary: Summary) -> Table:
    """One row per model, best first; ✓/✗ beside each figure that has a target."""
    grid = Table(title=f"parley eval — {summary.cases} case(s)")
    for column in ("model", "accuracy", "routing", "tools", "p50 s", "p95 s", "tokens in/out",
                   "$ / 1k conv.", "errors", "cached"):
        grid.add_column(column, justify="left" if column == "model" else "right")
    for s in summary.scores:
        name = s.model + (" (production)" if s.model == summary.production else "")
        grid.add_row(name, _pct(s.accuracy) + _mark(s, "accuracy"), _pct(s.routing_accuracy),
                     _pct(s.tool_accuracy), f"{s.p50_s:.2f}",
                     f"{s.p95_s:.2f}" + _mark(s, "p95_latency_ms"),
                     f"{s.input_tokens:,}/{s.output_tokens:,}",
                     f"{s.cost_per_1k_conversations:.2f}" + _mark(s, "cost_per_1k_conversations"),
                     str(s.errors), str(s.cached))
    return grid


def by_check(score: ModelScore) -> str:
    """'contains 90%, cites 100%, …': the share of each kind of check passed."""
    return ", ".join(f"{kind} {_pct(share)}" for kind, share in score.by_check.items())


_W, _H, _PAD = 420, 260, 48


def scatter(scores: list[ModelScore], x_of: str, x_label: str) -> str:
    """An inline SVG of accuracy (y) against one figure (x) per model."""
    xs = [float(getattr(s, x_of)) for s in scores]
    top = max(xs, default=0.0) or 1.0
    points = []
    for s, x in zip(scores, xs, strict=True):
        px = _PAD + (x / top) * (_W - 2 * _PAD)
        py = _H - _PAD - s.accuracy * (_H - 2 * _PAD)
        points.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" class="dot">'
                      f'<title>{escape(s.model)}: {s.accuracy:.0%}, {x:.4g}</title></circle>'
                      + (f'<text x="{px - 8:.1f}" y="{py - 6:.1f}" text-anchor="end">'
                         if px > _W / 2 else f'<text x="{px + 8:.1f}" y="{py - 6:.1f}">')
                      + f'{escape(s.model)}</text>')
    axes = (f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}"/>'
            f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}"/>'
            f'<text x="{_W / 2}" y="{_H - 12}" text-anchor="middle">{escape(x_label)} '
            f'(0 – {top:.4g})</text>'
            f'<text x="14" y="{_H / 2}" transform="rotate(-90 14 {_H / 2})" '
            f'text-anchor="middle">accuracy (0 – 100%)</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
            f'viewBox="0 0 {_W} {_H}" role="img" aria-label="accuracy vs {escape(x_label)}">'
            f'{axes}{"".join(points)}</svg>')


_STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}
.miss{color:#b00}.meet{color:#070}svg{margin-right:1em;border:1px solid #eee}
svg line{stroke:#555}svg text{font-size:11px}.dot{fill:#36c}
pre{white-space:pre-wrap;margin:0}"""


def html(summary: Summary) -> str:
    """The whole report as one HTML document."""
    head = ("<tr><th>model</th><th>accuracy</th><th>routing</th><th>tools</th><th>p50 s</th>"
            "<th>p95 s</th><th>$ / 1k conversations</th><th>errors</th><th>targets</th>"
            "<th>by check</th></tr>")
    rows = "".join(
        f"<tr><td>{escape(s.model)}</td><td>{_pct(s.accuracy)}</td>"
        f"<td>{_pct(s.routing_accuracy)}</td><td>{_pct(s.tool_accuracy)}</td>"
        f"<td>{s.p50_s:.2f}</td><td>{s.p95_s:.2f}</td>"
        f"<td>{s.cost_per_1k_conversations:.2f}</td><td>{s.errors}</td><td>"
        + ", ".join(f'<span class="{"meet" if ok else "miss"}">{escape(t)}</span>'
                    for t, ok in s.meets.items()) + f"</td><td>{escape(by_check(s))}</td></tr>"
        for s in summary.scores)
    cheapest = escape(summary.cheapest_meeting_accuracy or "none")
    plots = (scatter(summary.scores, "cost_per_1k_conversations", "USD per 1,000 conversations")
             + scatter(summary.scores, "p95_s", "p95 latency per turn, s"))
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>parley eval</title><style>{_STYLE}</style></head><body>"
            f"<h1>parley eval</h1><p>{summary.cases} case(s); cheapest model meeting the "
            f"accuracy target: <b id=\"cheapest\">{cheapest}</b></p>"
            f"<table>{head}{rows}</table><div>{plots}</div>{_failures(summary)}</body></html>")


def _failures(summary: Summary) -> str:
    parts = ["<h2>Failed cases</h2>"]
    for s in summary.scores:
        if not s.failures:
            continue
        parts.append(f"<h3>{escape(s.model)}: {len(s.failures)} failed</h3><table>"
                     "<tr><th>case</th><th>turn</th><th>check</th><th>expected</th>"
                     "<th>got</th></tr>")
        for run in s.failures:
            bad: list[tuple[int, CheckResult | None]] = [
                (n, c) for n, turn in enumerate(run.checks, 1) for c in turn if not c.passed]
            if run.error:
                bad.insert(0, (0, None))
            for n, check in bad:
                kind, expected, got = ((check.kind, check.expected, check.got) if check else
                                       ("error", "an answer from the model",
                                        "the bot fell back: the model failed"))
                parts.append(f"<tr class=\"failed\"><td>{escape(run.case.id)}</td><td>{n}</td>"
                             f"<td>{kind}</td><td><pre>{escape(expected)}</pre></td>"
                             f"<td><pre>{escape(got)}</pre></td></tr>")
        parts.append("</table>")
    return "".join(parts)
