"""The HTTP API, through the real ASGI app and its lifespan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from parley_bot.agents.flowsfile import load_flows
from parley_bot.channels.server import create_app


@pytest.fixture
def client(bot_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_flows(bot_dir / "flows.yaml"))) as client:
        yield client


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "bot": "Acme Outdoor assistant"}


def test_chat_answers_with_citations_and_the_conversation_is_stored(client: TestClient) -> None:
    response = client.post("/api/chat", json={"conversation_id": "web-1",
                                              "text": "how long do I have to return boots?"})
    assert response.status_code == 200
    body = response.json()
    assert "60 days" in body["reply"]
    assert body["citations"][0]["uri"] == "returns.md"
    assert body["skill"] == "returns" and body["fallback"] is False
    second = client.post("/api/chat", json={"conversation_id": "web-1",
                                            "text": "and sizing of boots?"})
    assert second.status_code == 200

    history = client.get("/api/conversations/web-1")
    assert history.status_code == 200
    turns = history.json()["turns"]
    assert [t["user_text"] for t in turns] == ["how long do I have to return boots?",
                                               "and sizing of boots?"]
    assert turns[0]["reply"] == body["reply"]


def test_conversation_ids_may_hold_slashes_and_any_script(client: TestClient) -> None:
    conversation = "slack/T01/C02/1700000000.000100 ü 🙂"
    assert client.post("/api/chat", json={"conversation_id": conversation,
                                          "text": "when are you open?"}).status_code == 200
    history = client.get(f"/api/conversations/{quote(conversation)}")
    assert history.status_code == 200
    assert history.json()["conversation_id"] == conversation


def test_unknown_conversation_is_404(client: TestClient) -> None:
    assert client.get("/api/conversations/nope").status_code == 404


@pytest.mark.parametrize("body", [
    {"text": "hi"},
    {"conversation_id": "", "text": "hi"},
    {"conversation_id": "c", "text": 5},
    {"conversation_id": "c", "text": "x" * 100_001},
])
def test_malformed_requests_are_422_and_store_nothing(client: TestClient, body: object) -> None:
    assert client.post("/api/chat", json=body).status_code == 422
    assert client.get("/api/conversations/c").status_code == 404


def test_non_json_body_is_422(client: TestClient) -> None:
    response = client.post("/api/chat", content=b"not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
