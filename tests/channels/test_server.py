"""The HTTP API, through the real ASGI app and its lifespan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from parley_bot.agents.bot import Bot
from parley_bot.agents.errors import StoreUnavailable
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.settings import Settings
from parley_bot.agents.store.base import HeldWrites
from parley_bot.agents.store.memory import MemoryStore
from parley_bot.channels.messages import InboundMessage, Turn
from parley_bot.channels.server import create_app
from tests.conftest import configure

TOKEN = "s3cret-admin-token"


@pytest.fixture
def client(bot_dir: Path) -> Iterator[TestClient]:
    settings = Settings(parley_api_token=TOKEN)
    with TestClient(create_app(load_flows(bot_dir / "flows.yaml"), settings),
                    headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def bot(client: TestClient) -> Bot:
    opened: Bot = client.app.state.bot  # type: ignore[attr-defined]
    return opened


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
    assert body["conversation_id"] == "web-1" and len(body["turn_id"]) == 32
    second = client.post("/api/chat", json={"conversation_id": "web-1",
                                            "text": "and sizing of boots?"})
    assert second.status_code == 200

    history = client.get("/api/conversations/web-1")
    assert history.status_code == 200
    turns = history.json()["turns"]
    assert [t["user_text"] for t in turns] == ["how long do I have to return boots?",
                                               "and sizing of boots?"]
    assert turns[0]["reply"] == body["reply"] and turns[0]["id"] == body["turn_id"]
    assert turns[0]["conversation_id"] == "web-1" and turns[0]["channel"] == "api"


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
    {"conversation_id": "c" * 257, "text": "hi"},  # longer bodies are 413 (test_access)
])
def test_malformed_requests_are_422_and_store_nothing(client: TestClient, body: object) -> None:
    assert client.post("/api/chat", json=body).status_code == 422
    assert client.get("/api/conversations/c").status_code == 404


def test_non_json_body_is_422(client: TestClient) -> None:
    response = client.post("/api/chat", content=b"not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_transcripts_are_paged_from_the_latest_turn(client: TestClient) -> None:
    ids = [client.post("/api/chat", json={"conversation_id": "p", "text": f"shipping {i}?"}
                       ).json()["turn_id"] for i in range(5)]
    page = client.get("/api/conversations/p", params={"limit": 2}).json()
    assert [t["id"] for t in page["turns"]] == ids[3:] and page["before"] == ids[3]
    older = client.get("/api/conversations/p", params={"limit": 2, "before": page["before"]})
    assert [t["id"] for t in older.json()["turns"]] == ids[1:3]
    last = client.get("/api/conversations/p", params={"limit": 2, "before": ids[1]}).json()
    assert [t["id"] for t in last["turns"]] == ids[:1] and last["before"] is None
    assert client.get("/api/conversations/p", params={"before": ids[0]}).status_code == 404
    assert client.get("/api/conversations/p", params={"limit": 0}).status_code == 422


def test_feedback_is_stored_with_its_turn(client: TestClient) -> None:
    turn_id = client.post("/api/chat", json={"conversation_id": "f", "text": "sizing?"}
                          ).json()["turn_id"]
    sent = client.post("/api/feedback/f", json={"turn_id": turn_id, "rating": -1,
                                                "comment": "not my size"})
    assert sent.status_code == 204
    feedback = client.get("/api/conversations/f").json()["turns"][0]["feedback"]
    assert (feedback["rating"], feedback["comment"]) == (-1, "not my size")
    assert client.post("/api/feedback/f", json={"turn_id": "nope", "rating": 1}
                       ).status_code == 404
    assert client.post("/api/feedback/f", json={"turn_id": turn_id, "rating": 5}
                       ).status_code == 422


def test_deleting_a_conversation_erases_it_and_only_it(client: TestClient) -> None:
    for conversation in ("gone", "kept"):
        client.post("/api/chat", json={"conversation_id": conversation, "text": "hours?"})
    assert client.delete("/api/conversations/gone").status_code == 204
    assert client.get("/api/conversations/gone").status_code == 404
    assert client.get("/api/conversations/kept").status_code == 200
    assert client.delete("/api/conversations/never-was").status_code == 204
    again = client.post("/api/chat", json={"conversation_id": "gone", "text": "hi"})
    assert again.status_code == 200  # a new conversation, with no memory of the old one


async def test_the_api_reaches_only_its_own_channels_conversations(client: TestClient) -> None:
    slack = "slack:T01:C02:1700000000.000100"
    await bot(client).handle(InboundMessage(channel="slack", conversation_id=slack[6:],
                                            text="when are you open?"))
    assert client.get(f"/api/conversations/{quote(slack)}").status_code == 404
    assert client.get(f"/api/conversations/{quote(slack[6:])}").status_code == 404
    client.delete(f"/api/conversations/{quote(slack[6:])}")
    assert len(await bot(client).conversation(slack)) == 1


def test_admin_routes_read_and_erase_any_channel_with_the_token(client: TestClient) -> None:
    client.post("/api/chat", json={"conversation_id": "a1", "text": "hours?"})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/admin/conversations/api:a1",
                      headers={"Authorization": ""}).status_code == 401
    assert client.get("/api/admin/conversations/api:a1",
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    read = client.get("/api/admin/conversations/api:a1", headers=auth)
    assert read.status_code == 200 and read.json()["turns"][0]["user_text"] == "hours?"
    assert client.get("/api/admin/conversations/fax:a1", headers=auth).status_code == 422
    assert client.delete("/api/admin/conversations/api:a1", headers=auth).status_code == 204
    assert client.get("/api/conversations/a1").status_code == 404


def test_admin_routes_are_off_without_a_token(bot_dir: Path) -> None:
    app = create_app(load_flows(bot_dir / "flows.yaml"), Settings(parley_api_token=None))
    with TestClient(app) as client:
        response = client.get("/api/admin/conversations/api:a1",
                              headers={"Authorization": "Bearer "})
    assert response.status_code == 404


def test_a_placeholder_token_is_refused_outside_development() -> None:
    with pytest.raises(ValueError, match="PARLEY_API_TOKEN"):
        Settings(parley_api_token="changethis", parley_env="production")


def test_user_id_defaults_to_the_conversation_so_limits_apply_per_conversation(
    bot_dir: Path,
) -> None:
    config = configure(bot_dir, guard={"rate_limit": {"per_user": 2, "per_conversation": 50}})
    with TestClient(create_app(config)) as client:
        codes = [client.post("/api/chat", json={"conversation_id": c, "text": "hours?"}
                             ).status_code for c in ("r1", "r1", "r1", "r2")]
        limited = client.post("/api/chat", json={"conversation_id": "r1", "text": "hours?"})
    assert codes == [200, 200, 429, 200]
    assert limited.json()["detail"] == config.texts.rate_limited
    assert limited.headers["Retry-After"] == "60"


class DownStore(MemoryStore):
    async def append(self, turn: Turn, held: HeldWrites | None = None) -> int:
        raise StoreUnavailable("disk full")

    async def turns(self, conversation: str, *, limit: int | None = None,
                    before: str | None = None) -> list[Turn]:
        raise StoreUnavailable("disk full")


def test_a_store_that_is_down_is_503_with_the_try_again_text(bot_dir: Path) -> None:
    config = load_flows(bot_dir / "flows.yaml")
    with TestClient(create_app(config, store=DownStore())) as client:
        chat = client.post("/api/chat", json={"conversation_id": "d", "text": "hours?"})
        history = client.get("/api/conversations/d")
    assert chat.status_code == history.status_code == 503
    assert chat.json()["detail"] == history.json()["detail"] == config.texts.unavailable
