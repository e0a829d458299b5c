"""What a turn reports: its log record, its metrics and its spans, through a real bot."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from parley_bot.agents.bot import Bot
from parley_bot.agents.flowsfile import load_flows
from tests.conftest import configure, stub_model
from tests.utils.cli import PARLEY
from tests.utils.knowledge import BrokenStore
from tests.utils.messages import inbound
from tests.utils.metrics import Deltas
from tests.utils.openai_stub import OpenAIStub
from tests.utils.stores import FailingRecords


def turn_fields(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "parley.turn"]  # type: ignore[attr-defined]


async def test_a_model_turn_logs_its_usage_and_counts_tokens_and_cost(
    bot_dir: Path, openai_stub: OpenAIStub, caplog: pytest.LogCaptureFixture
) -> None:
    config = configure(bot_dir, model=stub_model(openai_stub, price_in_per_mtok=2.0,
                                                 price_out_per_mtok=8.0))
    model = "openai:stub-model"
    deltas = Deltas(("parley_model_tokens_total", {"model": model, "direction": "input"}),
                    ("parley_model_tokens_total", {"model": model, "direction": "output"}),
                    ("parley_model_cost_usd_total", {"model": model}),
                    ("parley_turns_total", {"channel": "api", "skill": "returns"}))
    with caplog.at_level(logging.INFO, logger="parley.turn"):
        async with Bot.open(config) as bot:
            reply = await bot.handle(inbound("can I send back my boots?", event_id="ev-9"))
    assert reply.usage is not None
    tokens_in, tokens_out = reply.usage.input_tokens, reply.usage.output_tokens
    [fields] = turn_fields(caplog)
    assert fields == {
        "conversation": "api:c1", "channel": "api", "event": "ev-9", "skill": "returns",
        "route": "classifier", "refused": None,
        "model": model, "fallback": False, "error": False,
        "latency_ms": fields["latency_ms"], "input_tokens": tokens_in,
        "output_tokens": tokens_out, "cost_usd": reply.usage.cost_usd,
    }
    assert fields["latency_ms"] > 0
    assert deltas() == pytest.approx([tokens_in, tokens_out, reply.usage.cost_usd, 1])
    assert reply.usage.cost_usd == pytest.approx((tokens_in * 2 + tokens_out * 8) / 1e6)


async def test_a_failed_turn_is_logged_and_counted_as_an_error_fallback(
    bot_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deltas = Deltas(("parley_fallbacks_total",
                     {"channel": "api", "skill": "none", "reason": "error"}))
    with caplog.at_level(logging.INFO, logger="parley.turn"):
        async with Bot.open(load_flows(bot_dir / "flows.yaml"), knowledge=BrokenStore()) as bot:
            await bot.handle(inbound("how much is shipping?"))
    assert deltas() == [1]
    [fields] = turn_fields(caplog)
    assert (fields["skill"], fields["model"], fields["fallback"], fields["error"]) == (
        None, None, True, True)


async def test_a_store_that_cannot_save_the_turn_is_counted(bot_dir: Path) -> None:
    config = load_flows(bot_dir / "flows.yaml")
    deltas = Deltas(("parley_store_errors_total", {"operation": "turn"}))
    store = FailingRecords()
    store.failures = 1
    async with Bot.open(config, store=store) as bot:
        reply = await bot.handle(inbound("how much is shipping?"))
    assert reply.declined == "unavailable"  # asked to try again; nothing half-written
    assert deltas() == [1]


@pytest.fixture(scope="session")
def tracing() -> InMemorySpanExporter:
    """A recording tracer provider for the session (OpenTelemetry allows setting one once)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture
def spans(tracing: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    tracing.clear()
    yield tracing
    tracing.clear()


async def test_each_turn_is_a_span_with_a_child_span_per_node(
    bot_dir: Path, spans: InMemorySpanExporter
) -> None:
    async with Bot.open(load_flows(bot_dir / "flows.yaml")) as bot:
        await bot.handle(inbound("can I send back my boots?"))
        await bot.handle(inbound("   "))  # refused by the guard: no route, no retrieval
    finished = spans.get_finished_spans()
    turns = [s for s in finished if s.name == "parley.turn"]
    assert len(turns) == 2
    for turn, nodes in zip(turns, [["intake", "route", "retrieve", "generate", "respond"],
                                   ["intake", "respond"]], strict=True):
        children = [s for s in finished if s.parent and s.parent.span_id == turn.context.span_id]
        assert [s.name for s in children] == [f"parley.node.{n}" for n in nodes]
        assert all(s.context.trace_id == turn.context.trace_id for s in children)
        assert turn.status.status_code is StatusCode.UNSET
    attributes = dict(turns[0].attributes or {})
    assert attributes["parley.channel"] == "api" and attributes["parley.skill"] == "returns"
    assert attributes["parley.model"] == "extractive" and attributes["parley.fallback"] is False


async def test_a_failing_node_marks_its_span_and_the_turn_as_errors(
    bot_dir: Path, spans: InMemorySpanExporter
) -> None:
    async with Bot.open(load_flows(bot_dir / "flows.yaml"), knowledge=BrokenStore()) as bot:
        await bot.handle(inbound("how much is shipping?"))
    by_name = {s.name: s for s in spans.get_finished_spans()}
    retrieve = by_name["parley.node.retrieve"]
    assert retrieve.status.status_code is StatusCode.ERROR
    assert retrieve.events[0].attributes["exception.message"] == "vector database unreachable"
    assert by_name["parley.turn"].status.status_code is StatusCode.ERROR
    assert "parley.node.generate" not in by_name


def test_opentelemetry_instrument_exports_the_spans_as_the_readme_says(bot_dir: Path) -> None:
    instrument = str(Path(sys.executable).parent / "opentelemetry-instrument")
    env = {**os.environ, "OTEL_SERVICE_NAME": "acme", "OTEL_TRACES_EXPORTER": "console",
           "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}
    result = subprocess.run([instrument, PARLEY, "chat"], cwd=bot_dir, env=env, text=True,
                            input="are you open on sunday?\n", capture_output=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    decoder, text, spans = json.JSONDecoder(), result.stdout, []
    while (start := text.find("{\n")) >= 0:  # the console exporter prints indented JSON
        span, end = decoder.raw_decode(text, start)
        spans.append(span)
        text = text[end:]
    turn = next(s for s in spans if s["name"] == "parley.turn")
    nodes = [s["name"] for s in spans if s["parent_id"] == turn["context"]["span_id"]]
    assert nodes == [f"parley.node.{n}" for n in ("intake", "route", "retrieve", "generate",
                                                  "respond")]
    assert turn["resource"]["attributes"]["service.name"] == "acme"
    assert turn["attributes"]["parley.skill"] == "store_info"
