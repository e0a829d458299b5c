"""The `parley` command, run as a separate process the way a user runs it."""

from __future__ import annotations

import json
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from tests.conftest import configure, stub_model
from tests.utils.cli import PARLEY, free_port, parley
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


def test_init_then_piped_chat_answers_from_the_returns_document(tmp_path: Path) -> None:
    created = parley("init", "mybot", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    bot = tmp_path / "mybot"
    assert sorted(p.name for p in (bot / "knowledge" / "docs").iterdir()) == [
        "returns.md", "shipping.md", "sizing.md", "store-hours.md", "warranty.md"]
    result = parley("chat", cwd=bot, stdin="how long do I have to return boots?\n")
    assert result.returncode == 0, result.stderr
    assert "60 days" in result.stdout
    assert "Sources: returns.md — Returns › Time limits" in result.stdout



def test_init_never_overwrites_a_file(tmp_path: Path) -> None:
    docs = tmp_path / "mybot" / "knowledge" / "docs"
    docs.mkdir(parents=True)
    (docs / "returns.md").write_text("# Our own returns policy\n")
    result = parley("init", "mybot", cwd=tmp_path)
    assert result.returncode == 1
    assert "returns.md already exists; not overwriting it" in result.stderr
    assert (docs / "returns.md").read_text() == "# Our own returns policy\n"
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
    assert result.stdout.index("[skill: store_info]") < result.stdout.index("Sunday from 10")
    assert "[skill: none]" in result.stdout


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
    port = free_port()
    process = subprocess.Popen([PARLEY, "serve", "--port", str(port)], cwd=bot_dir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "server did not start"
            time.sleep(0.2)
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
        while httpx.get(f"{base}/healthz").json()["bot"] != "Acme reloaded":
            assert time.monotonic() < deadline + 60, "flows.yaml was not reloaded"
            time.sleep(0.2)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    # uvicorn's records go through parley's handler and its filter, not uvicorn's own
    # formatter ("INFO:     ..."); its access line keeps the path percent-encoded.
    assert "INFO:" not in output and "x%0AERROR%20forged%20record" in output, output
    assert not any(line.lstrip().startswith("ERROR forged") for line in output.splitlines())


def test_chat_logs_escape_ids_and_redact_personal_data(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    configure(bot_dir, model=stub_model(openai_stub))
    result = parley("--debug", "chat", "--conversation", "c1\nINFO forged", cwd=bot_dir,
                    stdin="I'm jane@example.com, +1 415 555 2671, card 4111 1111 1111 1111: "
                          "how much is express shipping?\n")
    assert result.returncode == 0, result.stderr
    turn = next(line for line in result.stderr.splitlines() if "turn (conversation=" in line)
    assert "conversation=c1\\nINFO forged" in turn
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
