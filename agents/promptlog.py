"""Prompt baking: every model call of a turn written down, to become few-shot examples,
fine-tuning data or eval cases later (`parley export`).

Off by default (`log_prompts: {enabled: true}` in flows.yaml). A LangChain callback sees the
exact messages each chat model is sent and what it answered, so the answer path, the agent
loop and the router's decider are all recorded the same way, one JSON line per call, with
personal data redacted when `privacy.redact` is on. Feedback given later is not written
here: the export joins it from the store by conversation and turn id.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, LLMResult

from parley_bot.agents.privacy import Redactor

_WRITING = threading.Lock()


class PromptLog(BaseCallbackHandler):
    """Writes each chat model call of one turn to the JSONL file at `path`."""

    def __init__(self, path: Path, conversation: str, turn_id: str,
                 redactor: Redactor | None) -> None:
        self.path = path
        self.conversation = conversation
        self.turn_id = turn_id
        self.redactor = redactor
        self._started: dict[UUID, tuple[float, str, list[dict[str, Any]]]] = {}

    def on_chat_model_start(self, serialized: dict[str, Any] | None,
                            messages: list[list[BaseMessage]], *, run_id: UUID,
                            metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        params = kwargs.get("invocation_params") or {}
        model = (metadata or {}).get("ls_model_name") or params.get("model") or ""
        sent = convert_to_openai_messages(messages[0]) if messages else []
        self._started[run_id] = (time.perf_counter(), str(model), list(sent))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        started = self._started.pop(run_id, None)
        if started is None:
            return
        began, model, messages = started
        generation = response.generations[0][0] if response.generations else None
        message = generation.message if isinstance(generation, ChatGeneration) else None
        usage = dict(getattr(message, "usage_metadata", None) or {})
        record = {
            "at": datetime.now(UTC).isoformat(), "conversation": self.conversation,
            "turn_id": self.turn_id, "model": model,
            "messages": [self._hide(m) for m in messages],
            "completion": self._text(message.text if message is not None else ""),
            "tool_calls": [{"name": c["name"], "args": c["args"]}
                           for c in getattr(message, "tool_calls", None) or []],
            "usage": {"input_tokens": int(usage.get("input_tokens", 0)),
                      "output_tokens": int(usage.get("output_tokens", 0))},
            "latency_ms": round((time.perf_counter() - began) * 1000, 1),
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with _WRITING:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._started.pop(run_id, None)

    def _text(self, text: str) -> str:
        return self.redactor(text) if self.redactor is not None else text

    def _hide(self, message: dict[str, Any]) -> dict[str, Any]:
        content = message.get("content")
        if isinstance(content, str):
            return {**message, "content": self._text(content)}
        return message
