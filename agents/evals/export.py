"""`parley export`: logged prompts and rated conversations as training and test data.

The prompt log (`log_prompts`) holds each model call of each turn; the store holds each
turn's skill and the feedback people gave it later. They are joined by conversation and
turn id, then written as:

- chat fine-tuning JSONL for OpenAI (`{"messages": [...]}` a line; calls whose turn got a
  thumbs down, tool-calling steps and repeats left out), split into train and validation;
- a skill's `few_shot:` block (a YAML snippet to paste under the skill), best examples first;
- eval cases: each conversation with a thumbs-up turn, up to that turn, its reply as the
  reference answer.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.store import open_store
from parley_bot.channels.messages import Turn

_ROLES = {"system", "user", "assistant"}


@dataclass(frozen=True)
class Baked:
    """One logged model call and the stored turn it belongs to (None if it is gone)."""

    record: dict[str, Any]
    turn: Turn | None

    @property
    def rejected(self) -> bool:
        return bool(self.turn and self.turn.feedback and self.turn.feedback.rating < 0)


async def conversations(config: FlowsConfig) -> tuple[list[dict[str, Any]], dict[str, list[Turn]]]:
    """The prompt log's records and, from the store, every turn of the conversations they
    belong to, by conversation key."""
    path = config.path(config.log_prompts.path)
    records = ([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()] if path.exists() else [])
    keys = list(dict.fromkeys(r["conversation"] for r in records))
    async with open_store(config) as store:
        return records, {key: await store.turns(key) for key in keys}


def join(records: list[dict[str, Any]], turns: dict[str, list[Turn]]) -> list[Baked]:
    by_id = {(key, t.id): t for key, listed in turns.items() for t in listed}
    return [Baked(r, by_id.get((r["conversation"], r["turn_id"]))) for r in records]


def finetune_examples(baked: list[Baked]) -> list[dict[str, Any]]:
    """OpenAI chat fine-tuning examples: the messages sent, then the completion as the
    assistant's message; only plain-text calls whose turn got no thumbs down, each once. A
    thumbs-down reply that is history in a later call gets `weight: 0`: not learnt from."""
    rejected = {(item.record["conversation"], text) for item in baked if item.rejected
                for text in (item.record["completion"], item.turn and item.turn.reply) if text}
    examples: dict[str, dict[str, Any]] = {}
    for item in baked:
        record = item.record
        messages = record["messages"]
        plain = all(m.get("role") in _ROLES and isinstance(m.get("content"), str)
                    and not m.get("tool_calls") for m in messages)
        if item.rejected or record.get("tool_calls") or not record["completion"] or not plain:
            continue
        sent = [{"role": m["role"], "content": m["content"]} for m in messages]
        for m in sent:
            if m["role"] == "assistant" and (record["conversation"], m["content"]) in rejected:
                m["weight"] = 0
        example = {"messages": [*sent, {"role": "assistant", "content": record["completion"]}]}
        examples.setdefault(json.dumps(example, sort_keys=True), example)
    return list(examples.values())


def split(examples: list[dict[str, Any]], share: float) -> tuple[list[Any], list[Any]]:
    """Train and validation sets, by a hash of each example (the same split every time);
    at least one validation example once there are two."""
    def bucket(example: dict[str, Any]) -> float:
        digest = hashlib.sha256(json.dumps(example, sort_keys=True).encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32

    train = [e for e in examples if bucket(e) >= share]
    validation = [e for e in examples if bucket(e) < share]
    if not validation and len(train) >= 2:
        validation.append(train.pop())
    return train, validation


def jsonl(examples: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)


def few_shot(turns: dict[str, list[Turn]], skill: str, limit: int) -> str:
    """The `few_shot:` block of `skill`: its thumbs-up exchanges, then unrated ones; never a
    thumbs down or a fallback."""
    chosen = [t for listed in turns.values() for t in listed
              if t.skill == skill and not t.fallback and not (t.feedback and t.feedback.rating < 0)]
    chosen.sort(key=lambda t: -(t.feedback.rating if t.feedback else 0))
    unique = list({t.user_text.strip().lower(): t for t in reversed(chosen)}.values())[::-1]
    shots = [{"user": t.user_text, "assistant": t.reply} for t in unique[:limit]]
    return _yaml({"few_shot": shots})


def eval_cases(turns: dict[str, list[Turn]]) -> str:
    """Eval cases from rated conversations: each thumbs-up turn, with the turns before it,
    becomes a case expecting its skill and its reply as reference answer."""
    cases = []
    for key, listed in turns.items():
        for n, turn in enumerate(listed):
            if not (turn.feedback and turn.feedback.rating > 0):
                continue
            steps: list[dict[str, Any]] = [{"user": t.user_text} for t in listed[:n]]
            steps.append({"user": turn.user_text, "skill": turn.skill or "none",
                          "reference": {"text": turn.reply, "threshold": 0.5}})
            cases.append({"name": f"{key} turn {n + 1}", "turns": steps})
    return _yaml(cases)


def _yaml(value: Any) -> str:
    yaml = YAML()
    yaml.width = 100
    out = io.StringIO()
    yaml.dump(value, out)
    return out.getvalue()
