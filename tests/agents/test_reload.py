"""Hot reload while the server runs: the real app and its lifespan, the real file watcher."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from parley_bot.agents.flowsfile import load_flows
from parley_bot.channels.server import create_app
from parley_bot.knowledge.ingest import Ingestor

WAIT_S = 30  # an upper bound for a loaded machine; the test moves on as soon as it reloads


class Reloads:
    """Collects the watcher's reports; `next()` waits for the next one."""

    def __init__(self) -> None:
        self._results: list[bool] = []
        self._changed = threading.Condition()

    def __call__(self, ok: bool) -> None:
        with self._changed:
            self._results.append(ok)
            self._changed.notify_all()

    def next(self, seen: int) -> bool:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self._results) > seen, WAIT_S)
            return self._results[seen]


@pytest.fixture
def served(bot_dir: Path) -> Iterator[tuple[TestClient, Reloads]]:
    reloads = Reloads()
    flows = bot_dir / "flows.yaml"
    app = create_app(load_flows(flows), watch=flows, on_reload=reloads)
    with TestClient(app) as client:
        yield client, reloads


def ask(client: TestClient, text: str, conversation: str = "c1") -> dict[str, object]:
    response = client.post("/api/chat", json={"conversation_id": conversation, "text": text})
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_a_new_skill_is_routable_on_the_next_turn_and_conversations_survive(
    served: tuple[TestClient, Reloads], bot_dir: Path,
) -> None:
    client, reloads = served
    assert ask(client, "how much does express shipping cost?")["skill"] == "shipping"
    (bot_dir / "knowledge" / "docs" / "gifts.md").write_text(
        "# Gifts\n\nWe gift wrap any order for $5; gift cards never expire.\n")
    yaml = YAML()
    flows = bot_dir / "flows.yaml"
    data = yaml.load(flows)
    data["skills"].append({"name": "gifts", "description": "Gift wrapping and gift cards",
                           "examples": ["do you offer gift wrapping", "can you wrap a present",
                                        "I need a gift card"]})
    yaml.dump(data, flows)
    assert reloads.next(0)
    reply = ask(client, "can you gift wrap my order?")
    assert reply["skill"] == "gifts" and "$5" in str(reply["reply"])
    turns = client.get("/api/conversations/c1").json()["turns"]
    assert len(turns) == 2  # the conversation from before the reload goes on


def test_broken_yaml_is_logged_and_the_last_good_version_keeps_running(
    served: tuple[TestClient, Reloads], bot_dir: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    client, reloads = served
    flows = bot_dir / "flows.yaml"
    good = flows.read_text()
    with caplog.at_level(logging.ERROR, logger="parley.reload"):
        flows.write_text(good.replace("  - name: shipping\n", "  - name: shipping\n   oops\n"))
        assert not reloads.next(0)
    assert ask(client, "how much does express shipping cost?")["skill"] == "shipping"
    record = next(r for r in caplog.records if "not valid" in r.getMessage())
    assert "flows.yaml:" in record.getMessage() and "YAML syntax" in record.getMessage()
    flows.write_text(good.replace("name: Acme Outdoor assistant", "name: Acme again"))
    assert reloads.next(1)
    assert client.get("/healthz").json()["bot"] == "Acme again"


def test_a_finished_ingest_and_a_new_python_tool_apply_without_a_restart(
    served: tuple[TestClient, Reloads], bot_dir: Path,
) -> None:
    client, reloads = served
    question = "do gift cards expire?"
    assert ask(client, question)["citations"] == []
    (bot_dir / "knowledge" / "docs" / "gift-cards.md").write_text(
        "# Gift cards\n\nGift cards never expire and work online and in stores.\n")
    config = load_flows(bot_dir / "flows.yaml")
    Ingestor(config.knowledge, config.root).run()  # what `parley ingest` does
    assert reloads.next(0)
    answer = ask(client, question)
    assert "never expire" in str(answer["reply"])
    (bot_dir / "tools" / "stock.py").write_text(
        "from langchain_core.tools import tool\n\n\n@tool\ndef stock(item: str) -> int:\n"
        '    """Units in stock."""\n    return 3\n')
    seen = 1
    while not client.app.state.bot.config.python_tools:  # type: ignore[attr-defined]
        reloads.next(seen)  # the file may arrive in more than one write
        seen += 1
    assert list(client.app.state.bot.config.python_tools) == ["stock"]  # type: ignore[attr-defined]
