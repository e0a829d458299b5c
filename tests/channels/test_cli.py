"""The `parley` command, run as a separate process the way a user runs it."""

from __future__ import annotations

import json
import re
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley_bot.agents.scaffold import starter_bot
from tests.conftest import configure, stub_model
from tests.utils.cli import free_port, parley, serving
from tests.utils.openai_stub import OpenAIStub

BROKEN = """\
name: Acme
persona: hi
modle: openai:gpt-4o-mini
knowledge:
  top_k: lots
skills:
  - name: returns
    description: Returns
   examples: [return, refund]
"""

EXPECTED = [
    "flows.yaml:3:1: modle: unknown key (did you mean 'model'?)",
    "flows.yaml:5:10: knowledge.top_k: Input should be a valid integer, unable to parse string "
    "as an integer (got 'lots')",
    "flows.yaml:9:4: YAML syntax: expected <block end>, but found '<block mapping start>' "
    "(check the indentation of this line)",
]


def test_check_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "flows.yaml").write_text(BROKEN)
    result = parley("check", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:3] == EXPECTED
    assert "3 problem(s) found" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_an_invalid_file_with_the_same_message(tmp_path: Path) -> None:
    (tmp_path / "flows.yaml").write_text(BROKEN)
    result = parley("serve", "--port", str(free_port()), cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:3] == EXPECTED


def test_version_names_the_installed_distribution(tmp_path: Path) -> None:
    result = parley("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"parley {version('parley-bot')}\n"


def test_check_accepts_redis_stores_and_refuses_a_bad_redis_url(bot_dir: Path) -> None:
    configure(bot_dir, memory={"url": "rediss://user:pw@cache.example:6380/0"})
    assert parley("check", cwd=bot_dir).returncode == 0  # nothing is sent over the network
    bad = parley("check", cwd=bot_dir, env={"REDIS_URL": "http://cache:6379"})
    assert bad.returncode == 1
    assert "REDIS_URL 'http://cache:6379' must start with redis:// or rediss://" in bad.stderr


def test_check_accepts_the_example_bot(bot_dir: Path) -> None:
    result = parley("check", cwd=bot_dir)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout and "5 skill(s)" in result.stdout


def test_schema_is_a_strict_json_schema(tmp_path: Path) -> None:
    result = parley("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] is False
    assert {"name", "model", "skills", "knowledge", "memory", "privacy"} <= schema[
        "properties"].keys()
    definitions = schema["$defs"]
    assert set(definitions["PrivacyConfig"]["properties"]) == {
        "redact", "mode", "hash_key_env", "phone_regions", "transcript"}
    assert {"allow_hosts", "allow_private"} <= definitions["KnowledgeSource"]["properties"].keys()
    assert "private" in definitions["ModelSpec"]["properties"]
    assert schema["required"] == ["name"]
    assert {"tools", "router"} <= schema["properties"].keys()
    kinds = schema["$defs"]
    assert {"slots", "tool", "verify", "reply"} <= kinds["FormSkill"]["properties"].keys()
    assert {"tools", "max_steps", "tool_timeout_s", "budget_s"} <= kinds["AgentSkill"][
        "properties"].keys()
    assert {"method", "url", "headers", "body", "args", "timeout_s", "keep"} <= kinds[
        "HttpTool"]["properties"].keys()
    assert {"type", "question", "pattern", "choices", "invalid", "aliases"} <= kinds["Slot"][
        "properties"].keys()


def test_init_makes_a_neutral_starter_named_after_its_folder(tmp_path: Path) -> None:
    created = parley("init", "pet-shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    bot = tmp_path / "pet-shop"
    files = sorted(str(p.relative_to(bot)) for p in bot.rglob("*") if p.is_file())
    assert files == ["README.md", "evals/cases.yaml", "flows.yaml", "knowledge/docs/about.md"]
    assert (bot / "tools").is_dir()
    assert "Acme" not in "".join((bot / f).read_text() for f in files)
    assert (bot / "README.md").read_text().startswith("# pet-shop\n")
    starter = (starter_bot() / "flows.yaml").read_text()  # comments and layout kept
    assert (bot / "flows.yaml").read_text() == starter.replace("name: My bot", "name: pet-shop")
    check = parley("check", cwd=bot)
    assert check.returncode == 0, check.stderr
    assert "'pet-shop', 1 skill(s), model extractive" in check.stdout
    result = parley("chat", "--verbose", cwd=bot, stdin="how can I contact you?\n")
    assert result.returncode == 0, result.stderr
    assert "hello@example.com" in result.stdout
    assert "Sources: about.md — About us › Contact" in result.stdout
    assert "skill contact · model extractive · " in result.stdout


def test_init_example_then_piped_chat_answers_from_the_returns_document(tmp_path: Path) -> None:
    created = parley("init", "--example", "shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    bot = tmp_path / "shop"
    assert sorted(p.name for p in (bot / "knowledge" / "docs").iterdir()) == [
        "returns.md", "shipping.md", "sizing.md", "store-hours.md", "warranty.md"]
    result = parley("chat", cwd=bot, stdin="how long do I have to return boots?\n")
    assert result.returncode == 0, result.stderr
    assert "60 days" in result.stdout
    assert "Sources: returns.md — Returns › Time limits" in result.stdout
    assert "skill" not in result.stdout  # the details are --verbose's


def test_init_never_overwrites_a_file(tmp_path: Path) -> None:
    docs = tmp_path / "mybot" / "knowledge" / "docs"
    docs.mkdir(parents=True)
    (docs / "about.md").write_text("# Our own page\n")
    result = parley("init", "mybot", cwd=tmp_path)
    assert result.returncode == 1
    assert "about.md already exists; not overwriting it" in result.stderr
    assert (docs / "about.md").read_text() == "# Our own page\n"
    assert not (tmp_path / "mybot" / "flows.yaml").exists()


def test_check_finds_what_would_stop_the_bot_and_keeps_brackets(bot_dir: Path) -> None:
    flows = bot_dir / "flows.yaml"
    flows.write_text(flows.read_text().replace("model: extractive", "model: anthropic:claude"))
    result = parley("check", cwd=bot_dir)
    assert result.returncode == 1
    assert "pip install 'parley-bot[anthropic]'" in result.stderr  # not eaten as rich markup
    flows.write_text(flows.read_text().replace("model: anthropic:claude", "model: extractive")
                     .replace("path: knowledge/docs", "path: knowledge/missing"))
    result = parley("check", cwd=bot_dir)
    assert result.returncode == 1
    assert "knowledge source 'docs'" in result.stderr and "does not exist" in result.stderr


def test_bad_conversation_id_is_a_usage_error(bot_dir: Path) -> None:
    result = parley("chat", "--conversation", "", cwd=bot_dir, stdin="hi\n")
    assert result.returncode == 2
    assert "must be 1 to 256 characters" in result.stderr and "Traceback" not in result.stderr


def test_piped_chat_takes_one_turn_per_line(bot_dir: Path) -> None:
    result = parley("chat", cwd=bot_dir,
                    stdin="are you open on sunday?\n\nhow much is express shipping?\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Sources:") == 2
    assert "Sunday from 10 am to 5 pm" in result.stdout and "$14.95" in result.stdout


def test_verbose_chat_shows_the_skill_that_answered(bot_dir: Path) -> None:
    result = parley("chat", "--verbose", cwd=bot_dir,
                    stdin="are you open on sunday?\nwhat does the warranty cover?\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("Sunday from 10") < out.index("skill store_info · model extractive")
    assert "skill - · model extractive" in out  # the general answer: no skill


def test_ingest_reports_what_changed(bot_dir: Path) -> None:
    first = parley("ingest", cwd=bot_dir)
    assert first.returncode == 0, first.stderr
    assert "5 added, 0 updated, 0 unchanged" in first.stdout
    returns = bot_dir / "knowledge" / "docs" / "returns.md"
    returns.write_text(returns.read_text() + "\nGift cards cannot be returned.\n")
    (bot_dir / "knowledge" / "docs" / "[draft] notes.md").write_text("# Notes\n\nDraft.\n")
    (bot_dir / "knowledge" / "docs" / "scan.pdf").write_bytes(b"%PDF-1.4 garbage")
    second = parley("ingest", cwd=bot_dir)
    assert second.returncode == 0, second.stderr
    assert "1 added, 1 updated, 4 unchanged, 0 removed, 1 skipped" in second.stdout
    assert "indexed  docs:returns.md" in second.stdout
    assert "indexed  docs:[draft] notes.md" in second.stdout
    assert "skipped  docs:scan.pdf:" in second.stderr


def test_serve_answers_over_http(bot_dir: Path) -> None:
    log = bot_dir / "serve.log"
    with serving(bot_dir, log=log) as base:
        reply = httpx.post(f"{base}/api/chat", json={"conversation_id": "x",
                                                     "text": "what does the warranty cover?"})
        assert reply.status_code == 200
        assert reply.json()["citations"][0]["uri"] == "warranty.md"
        forged = httpx.get(f"{base}/api/conversations/x%0AERROR%20forged%20record")
        assert forged.status_code == 404
        # parley serve reloads an edited flows.yaml by itself.
        flows = bot_dir / "flows.yaml"
        flows.write_text(flows.read_text().replace("name: Acme Outdoor assistant",
                                                   "name: Acme reloaded"))
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/healthz").json()["bot"] != "Acme reloaded":
            assert time.monotonic() < deadline, "flows.yaml was not reloaded"
            time.sleep(0.2)
    output = log.read_text()
    # uvicorn's records go through parley's handler and its filter, not uvicorn's own
    # formatter ("INFO:     ..."); its access line keeps the path percent-encoded.
    assert "INFO:" not in output and "x%0AERROR%20forged%20record" in output, output
    assert not any(line.lstrip().startswith("ERROR forged") for line in output.splitlines())


def turn_records(stderr: str) -> list[dict[str, Any]]:
    """Every record of JSON-lines log output (each line must parse), the turn lines only."""
    records = [json.loads(line) for line in stderr.splitlines()]
    return [r for r in records if r["logger"] == "parley.turn"]


def test_piped_chat_logs_one_json_line_per_turn(bot_dir: Path) -> None:
    conversation = "c\n1\u2028 forged"  # a line break and a Unicode line separator
    result = parley("chat", "--log-level", "info", "--conversation", conversation, cwd=bot_dir,
                    stdin="how long do I have to return boots?\nwhat is the weather on mars?\n")
    assert result.returncode == 0, result.stderr
    assert "\u2028" not in result.stderr
    turns = turn_records(result.stderr)
    assert len(turns) == 2
    first = turns[0]
    assert first["message"] == "turn" and first["level"] == "INFO"
    assert first["conversation"] == f"terminal:{conversation}" and first["channel"] == "terminal"
    assert (first["skill"], first["model"], first["fallback"], first["error"]) == (
        "returns", "extractive", False, False)
    assert first["latency_ms"] > 0
    assert (first["input_tokens"], first["output_tokens"], first["cost_usd"]) == (0, 0, 0.0)
    assert turns[1]["skill"] is None


def test_text_logs_keep_one_line_per_record_however_long(bot_dir: Path) -> None:
    conversation = "x" * 150 + "\nINFO forged line"
    result = parley("chat", "--log-level", "info", "--log-format", "text", "--conversation",
                    conversation, cwd=bot_dir, stdin="are you open on sunday?\n")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "parley.turn" in line]
    assert len(lines) == 1 and len(lines[0]) > 200
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO parley\.turn: ", lines[0])
    assert f'conversation="terminal:{"x" * 150}\\nINFO forged line" channel=terminal' in lines[0]
    assert (" skill=store_info route=classifier refused=- model=extractive fallback=false "
            "error=false latency_ms=") in lines[0]
    assert "forged" not in result.stderr.replace(lines[0], "")


def test_chat_log_options_are_checked(bot_dir: Path) -> None:
    result = parley("chat", "--log-level", "loud", cwd=bot_dir, stdin="hi\n")
    assert result.returncode == 2
    assert "'loud' is not one of" in result.stderr


def test_serve_logs_requests_and_turns_as_json_lines(bot_dir: Path) -> None:
    log = bot_dir / "serve.log"
    with serving(bot_dir, "--log-level", "info", log=log) as base:
        reply = httpx.post(f"{base}/api/chat", json={"conversation_id": "c1",
                                                     "text": "how much is express shipping?"})
        assert reply.status_code == 200
    records = [json.loads(line) for line in log.read_text().splitlines()]
    messages = [r["message"] for r in records if r["logger"] == "uvicorn.error"]
    assert "Application startup complete." in messages
    chat = next(r for r in records if r["logger"] == "uvicorn.access"
                and r["path"] == "/api/chat")
    assert (chat["message"], chat["method"], chat["status"]) == ("request", "POST", 200)
    [turn] = [r for r in records if r["logger"] == "parley.turn"]
    assert (turn["conversation"], turn["channel"], turn["skill"]) == ("api:c1", "api", "shipping")


def test_chat_logs_escape_ids_and_redact_personal_data(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    configure(bot_dir, model=stub_model(openai_stub))
    result = parley("chat", "--log-level", "debug", "--log-format", "text", "--conversation",
                    "c1\nINFO forged", cwd=bot_dir,
                    stdin="I'm jane@example.com, +1 415 555 2671, card 4111 1111 1111 1111: "
                          "how much is express shipping?\n")
    assert result.returncode == 0, result.stderr
    turn = next(line for line in result.stderr.splitlines() if "turn (conversation=" in line)
    assert "conversation=terminal:c1\\nINFO forged" in turn
    masked = "I'm <EMAIL>, <PHONE>, card <CARD>: how much is express shipping?"
    assert masked in turn
    assert "jane@example.com" not in result.stderr and "4111" not in result.stderr
    assert openai_stub.user_texts(openai_stub.requests[0]) == [masked]


def test_check_and_serve_need_the_hash_key_when_redaction_hashes(
    bot_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARLEY_REDACTION_KEY", raising=False)
    configure(bot_dir, privacy={"mode": "hash"})
    for command in ("check", "serve"):
        result = parley(command, cwd=bot_dir)
        assert result.returncode == 1, command
        assert "PARLEY_REDACTION_KEY (privacy.hash_key_env) is not set" in result.stderr
