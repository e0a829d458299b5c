"""Prompt baking and `parley export`: the logged prompts of real turns (against the stand-in
OpenAI server) joined with feedback from the store, as fine-tuning data, a few-shot block
and eval cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from parley_bot.agents.bot import Bot
from parley_bot.agents.evals.cases import load_cases
from parley_bot.channels.messages import Feedback
from tests.conftest import configure, stub_model
from tests.utils.cli import parley
from tests.utils.messages import inbound
from tests.utils.openai_stub import OpenAIStub

_QUESTIONS = [("a", "how much does express shipping cost?"),
              ("b", "is express delivery available?"),
              ("c", "how much does express shipping cost?"),
              ("d", "when are you open on sunday?"),
              ("e", "how do I return something?")]


def _answers(request: dict[str, Any]) -> str:
    asked = request["messages"][-1]["content"].split("\n")[0]
    return f"About '{asked[:30]}': see our help pages [1]. Mail me at bob@example.com."


async def _bake(bot_dir: Path, stub: OpenAIStub) -> None:
    """Five conversations through the bot with prompt baking on; d gets a thumbs down, b a
    thumbs up."""
    stub.reply = _answers
    config = configure(bot_dir, model=stub_model(stub), log_prompts={"enabled": True})
    async with Bot.open(config) as bot:
        for conversation, text in _QUESTIONS:
            reply = await bot.handle(inbound(text, conversation=conversation))
            assert reply.turn_id is not None
            if conversation in "bd":
                rating = 1 if conversation == "b" else -1
                assert await bot.feedback(f"api:{conversation}", reply.turn_id,
                                          Feedback(rating=rating))


def _valid_chat_example(line: str) -> list[dict[str, str]]:
    """One line of OpenAI's chat fine-tuning format, checked as its docs describe."""
    example = json.loads(line)
    assert set(example) == {"messages"}
    messages = example["messages"]
    assert isinstance(messages, list) and len(messages) >= 2
    for n, message in enumerate(messages):
        assert set(message) <= {"role", "content", "weight"} and "content" in message
        assert message.get("weight", 1) in (0, 1) and ("weight" not in message
                                                      or message["role"] == "assistant")
        assert message["role"] in {"system", "user", "assistant"}
        assert isinstance(message["content"], str) and message["content"]
        assert message["role"] != "system" or n == 0
    assert messages[-1]["role"] == "assistant"
    assert any(m["role"] == "user" for m in messages)
    return messages


async def test_prompt_log_records_each_model_call_redacted(bot_dir: Path,
                                                           openai_stub: OpenAIStub) -> None:
    await _bake(bot_dir, openai_stub)
    lines = (bot_dir / ".parley" / "prompts.jsonl").read_text().splitlines()
    assert len(lines) == len(openai_stub.requests) == 5
    record = json.loads(lines[0])
    assert record["model"] == "stub-model" and record["conversation"] == "api:a"
    assert record["messages"] == [
        {k: m[k] for k in ("role", "content")} for m in openai_stub.requests[0]["messages"]]
    assert record["completion"].endswith("Mail me at <EMAIL>.")  # privacy.redact is on
    assert record["usage"]["input_tokens"] > 0 and record["latency_ms"] >= 0


async def test_finetuning_export_is_valid_openai_chat_jsonl(bot_dir: Path,
                                                            openai_stub: OpenAIStub) -> None:
    await _bake(bot_dir, openai_stub)
    done = parley("export", "--format", "openai-finetune", "-o", "train.jsonl",
                  "--validation", "0.2", cwd=bot_dir)
    assert done.returncode == 0, done.stderr
    train = (bot_dir / "train.jsonl").read_text().splitlines()
    held = (bot_dir / "train.validation.jsonl").read_text().splitlines()
    examples = [_valid_chat_example(line) for line in train + held]
    assert len(examples) == 3 and held  # a repeat and a thumbs down left out
    asked = {m["content"].split("\n")[0] for e in examples for m in e if m["role"] == "user"}
    assert "when are you open on sunday?" not in asked


async def test_a_thumbs_down_reply_in_a_later_calls_history_is_not_learnt(
        bot_dir: Path, openai_stub: OpenAIStub) -> None:
    await _bake(bot_dir, openai_stub)
    config = configure(bot_dir, model=stub_model(openai_stub), log_prompts={"enabled": True})
    async with Bot.open(config) as bot:  # d, whose first reply got a thumbs down, goes on
        await bot.handle(inbound("and for kids' sizes?", conversation="d"))
    done = parley("export", "--format", "openai-finetune", "-o", "train.jsonl",
                  "--validation", "0", cwd=bot_dir)
    assert done.returncode == 0, done.stderr
    files = [bot_dir / "train.jsonl", *bot_dir.glob("train.validation.jsonl")]
    examples = [_valid_chat_example(line) for f in files for line in f.read_text().splitlines()]
    later = [e for e in examples if "and for kids" in e[-2]["content"]]
    assert later, examples
    earlier = [m for m in later[0][:-1] if m["role"] == "assistant"]
    assert earlier and all(m.get("weight") == 0 for m in earlier)
    assert "weight" not in later[0][-1]


async def test_a_few_shot_block_pasted_in_changes_what_the_model_receives(
    bot_dir: Path, openai_stub: OpenAIStub,
) -> None:
    await _bake(bot_dir, openai_stub)
    done = parley("export", "--format", "few-shot", "--skill", "shipping", cwd=bot_dir)
    assert done.returncode == 0, done.stderr
    block = YAML().load(done.stdout)
    shots = block["few_shot"]
    assert shots[0]["user"] == "is express delivery available?"  # the thumbs-up first
    assert len(shots) == 2
    yaml = YAML()
    data = yaml.load(bot_dir / "flows.yaml")
    next(s for s in data["skills"] if s["name"] == "shipping")["few_shot"] = shots
    yaml.dump(data, bot_dir / "flows.yaml")
    checked = parley("check", cwd=bot_dir)
    assert checked.returncode == 0, checked.stderr
    config = configure(bot_dir)
    async with Bot.open(config) as bot:
        await bot.handle(inbound("how long does delivery take?", conversation="z"))
    sent = openai_stub.requests[-1]["messages"]
    assert [m["role"] for m in sent[:5]] == ["system", "user", "assistant", "user", "assistant"]
    assert sent[1]["content"] == shots[0]["user"] and sent[2]["content"] == shots[0]["assistant"]


async def test_rated_conversations_become_eval_cases(bot_dir: Path,
                                                     openai_stub: OpenAIStub) -> None:
    await _bake(bot_dir, openai_stub)
    done = parley("export", "--format", "eval", "-o", "evals/rated.yaml", cwd=bot_dir)
    assert done.returncode == 0, done.stderr
    config = configure(bot_dir, eval={"dataset": "evals"})
    cases = {c.id: c.case for c in load_cases(config)}
    rated = cases["api:b turn 1"]
    assert rated.turns[0].user == "is express delivery available?"
    assert rated.turns[0].skill == "shipping" and rated.turns[0].reference is not None
    assert not any(name.startswith("api:d") for name in cases)
