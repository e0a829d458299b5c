"""What each turn tells an operator: one log line, Prometheus metrics, OpenTelemetry spans.

`Bot` wraps every turn in one `TurnTelemetry` (its only hook): the turn's span opens, each
graph node becomes a child span through a LangChain callback (so a new node is traced with no
change here), and when the turn ends one record goes to the `parley.turn` logger and the
metrics. The record carries structured `fields` (see `channels.logs`); no user text, only ids.

Metrics live in prometheus-client's default registry. With several worker processes
(`PROMETHEUS_MULTIPROC_DIR` set before the first import, as `parley serve` does) each process
writes its own files and `/metrics` adds them up. Spans use the OpenTelemetry API alone: they
cost nothing until an SDK is installed and configured (`parley-bot[otel]`).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from prometheus_client import Counter, Histogram

from parley_bot.agents.errors import ModelTimeoutError
from parley_bot.channels.messages import InboundMessage, OutboundMessage

log = logging.getLogger("parley.turn")
_tracer = trace.get_tracer("parley")

NO_SKILL = "none"
"""The skill label of a general answer or a refused message."""

TURNS = Counter("parley_turns", "Turns answered.", ["channel", "skill"])
TURN_SECONDS = Histogram(
    "parley_turn_seconds", "Time from a turn's start to its reply.", ["channel", "skill"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)
FALLBACKS = Counter(
    "parley_fallbacks", "Turns answered by a fallback: reason 'model' when a configured model "
    "failed, 'error' when the turn itself failed.", ["channel", "skill", "reason"])
MODEL_ERRORS = Counter("parley_model_errors", "Model calls that failed (kind 'error') or ran "
                       "out of time (kind 'timeout').", ["model", "kind"])
TOKENS = Counter("parley_model_tokens", "Tokens spent, by model and direction (input, output).",
                 ["model", "direction"])
COST = Counter("parley_model_cost_usd", "Spend in US dollars, at the prices in flows.yaml.",
               ["model"])
STORE_ERRORS = Counter("parley_store_errors", "Failed reads or writes of conversation state.",
                       ["operation"])


def model_failed(model: str, error: BaseException) -> None:
    """Count a failed model call; the answer node falls back to the next model."""
    kind = "timeout" if isinstance(error, ModelTimeoutError) else "error"
    MODEL_ERRORS.labels(model=model, kind=kind).inc()


def store_failed(operation: str) -> None:
    """Count a failed read or write of conversation state (`operation`: e.g. 'save_turn')."""
    STORE_ERRORS.labels(operation=operation).inc()


class TurnTelemetry:
    """Open for one turn: `with TurnTelemetry(message) as turn: ...; turn.answered(...)`.

    Pass `turn.callbacks` to the graph run for one span per node. A turn left without an
    answer (the caller went away) ends its span as an error and reports nothing else.
    """

    def __init__(self, message: InboundMessage) -> None:
        self._message = message
        self._span = _tracer.start_span("parley.turn", attributes={
            "parley.channel": message.channel,
            "parley.conversation_id": message.key,
        })
        # Only when a tracing SDK records: callbacks cost time on every node.
        self.callbacks: list[BaseCallbackHandler] = (
            [_NodeSpans(self._span)] if self._span.is_recording() else [])
        self._answered = False

    def __enter__(self) -> TurnTelemetry:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._answered:
            self._span.set_status(Status(StatusCode.ERROR, "turn abandoned"))
        self._span.end()

    def answered(self, reply: OutboundMessage, seconds: float, *, failed: bool) -> None:
        """Report the finished turn.

        Args:
            reply: what the user got.
            seconds: time from the turn's start to its reply.
            failed: the turn raised and the user got the error answer.
        """
        self._answered = True
        message, usage = self._message, reply.usage
        fields: dict[str, Any] = {
            "conversation": message.key, "channel": message.channel,
            "event": message.event_id, "skill": reply.skill, "route": reply.route,
            "refused": reply.refused,
            "model": usage.model if usage else None, "fallback": reply.fallback,
            "error": failed, "latency_ms": round(seconds * 1000, 1),
            "input_tokens": usage.input_tokens if usage else 0,
            "output_tokens": usage.output_tokens if usage else 0,
            "cost_usd": usage.cost_usd if usage else 0.0,
        }
        log.info("turn", extra={"fields": fields})
        labels = {"channel": message.channel, "skill": reply.skill or NO_SKILL}
        TURNS.labels(**labels).inc()
        TURN_SECONDS.labels(**labels).observe(seconds)
        if reply.fallback:
            FALLBACKS.labels(**labels, reason="error" if failed else "model").inc()
        if usage is not None:
            TOKENS.labels(model=usage.model, direction="input").inc(usage.input_tokens)
            TOKENS.labels(model=usage.model, direction="output").inc(usage.output_tokens)
            COST.labels(model=usage.model).inc(usage.cost_usd)
        self._span.set_attributes({f"parley.{k}": v for k, v in fields.items()
                                   if k not in ("conversation", "channel") and v is not None})
        if failed:
            self._span.set_status(Status(StatusCode.ERROR, "turn failed"))


class _NodeSpans(BaseCallbackHandler):
    """One span per graph node, children of the turn's span."""

    run_inline = True  # called on the event loop, not in a thread

    def __init__(self, turn: Span) -> None:
        self._parent = trace.set_span_in_context(turn)
        self._spans: dict[UUID, Span] = {}

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        node = (metadata or {}).get("langgraph_node")
        if node is not None and kwargs.get("name") == node:  # a node, not an edge inside it
            self._spans[run_id] = _tracer.start_span(
                f"parley.node.{node}", context=self._parent, attributes={"parley.node": node})

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if (span := self._spans.pop(run_id, None)) is not None:
            span.end()

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        if (span := self._spans.pop(run_id, None)) is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()
