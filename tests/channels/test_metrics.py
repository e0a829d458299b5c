"""GET /metrics, scraped as Prometheus does, in one process and summed over several."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from parley_bot.agents.flowsfile import load_flows
from parley_bot.channels.server import create_app
from tests.utils.cli import serving


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a scrape; 0 when the series does not exist yet."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


SERIES = [
    ("parley_turns_total", {"channel": "api", "skill": "returns"}),
    ("parley_turns_total", {"channel": "api", "skill": "none"}),
    ("parley_turn_seconds_count", {"channel": "api", "skill": "returns"}),
    ("parley_turn_seconds_bucket", {"channel": "api", "skill": "returns", "le": "+Inf"}),
    ("parley_model_tokens_total", {"model": "extractive", "direction": "input"}),
]


def test_metrics_count_the_turns_just_served(bot_dir: Path) -> None:
    with TestClient(create_app(load_flows(bot_dir / "flows.yaml"))) as client:
        before = client.get("/metrics").text  # the registry is the process's: count from here
        for text in ["can I return boots?", "I want a refund", "what is the weather on mars?"]:
            assert client.post("/api/chat", json={"conversation_id": "m1", "text": text}
                               ).status_code == 200
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    after = response.text
    deltas = [sample(after, name, **labels) - sample(before, name, **labels)
              for name, labels in SERIES]
    assert deltas == [2, 1, 2, 2, 0]  # the extractive responder spends no tokens
    for name in ("parley_fallbacks_total", "parley_model_errors_total",
                 "parley_model_cost_usd_total", "parley_store_errors_total"):
        assert f"# TYPE {name} counter" in after


def test_openmetrics_when_the_scraper_asks_for_it(bot_dir: Path) -> None:
    with TestClient(create_app(load_flows(bot_dir / "flows.yaml"))) as client:
        response = client.get("/metrics", headers={"accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_several_processes_add_up_in_one_scrape(
    bot_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `parley serve` processes sharing one metrics directory, as workers of one server
    do: either one's /metrics counts the turns of both."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with serving(bot_dir, env=env, log=tmp_path / "a.log") as first, \
            serving(bot_dir, env=env, log=tmp_path / "b.log") as second:
        for base, conversation in [(first, "a1"), (first, "a2"), (second, "b1")]:
            assert httpx.post(f"{base}/api/chat", json={
                "conversation_id": conversation, "text": "I want a refund"}).status_code == 200
        scrapes = [httpx.get(f"{base}/metrics").text for base in (first, second)]
    for text in scrapes:
        assert sample(text, "parley_turns_total", channel="api", skill="returns") == 3
        assert sample(text, "parley_turn_seconds_count", channel="api", skill="returns") == 3
    assert len(list(shared.glob("*.db"))) >= 2  # one file set per process
