"""The widget's HTTP side: sessions, SSE chat, feedback, history, through the real app."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from parley_bot.agents.errors import ConfigError
from parley_bot.agents.settings import Settings
from parley_bot.channels.server import create_app
from tests.conftest import configure, stub_model
from tests.utils.cli import free_port
from tests.utils.openai_stub import OpenAIStub

SHOP = "https://shop.example"
SECRET = "a-long-random-session-secret"
SALT = "parley.web.session"


def web_app(bot_dir: Path, **changes: Any) -> FastAPI:
    config = configure(bot_dir, channels={"web": {"allowed_origins": [SHOP]}}, **changes)
    return create_app(config, Settings(parley_session_secret=SECRET))


@pytest.fixture
def client(bot_dir: Path) -> Iterator[TestClient]:
    with TestClient(web_app(bot_dir), headers={"Origin": SHOP}) as client:
        yield client


def open_session(client: TestClient, token: str | None = None) -> dict[str, Any]:
    response = client.post("/web/session", json={"token": token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """The SSE events of a response, (name, data)."""
    assert response.headers["content-type"].startswith("text/event-stream")
    found = []
    for block in response.text.split("\n\n"):
        if block.strip():
            name, data = block.split("\n")
            found.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return found


def chat(client: TestClient, token: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    response = client.post("/web/chat", json={"text": text},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return events(response)


def test_a_session_streams_an_answer_and_keeps_its_history(client: TestClient) -> None:
    token = open_session(client)["token"]
    streamed = chat(client, token, "how long do I have to return boots?")
    names = [name for name, _ in streamed]
    assert names[-1] == "reply" and set(names[:-1]) <= {"token"}
    reply = streamed[-1][1]
    assert "60 days" in reply["text"] and len(reply["turn_id"]) == 32
    assert reply["citations"][0]["label"].startswith("returns.md")
    assert reply["citations"][0]["link"] is None  # a file with no public page
    if len(names) > 1:  # tokens, when the answer streams, add up to the reply
        assert "".join(data["text"] for _, data in streamed[:-1]) == reply["text"]

    turns = client.get("/web/history", headers={"Authorization": f"Bearer {token}"}).json()
    assert [t["user_text"] for t in turns["turns"]] == ["how long do I have to return boots?"]
    assert turns["turns"][0]["turn_id"] == reply["turn_id"]


def test_a_token_resumes_its_conversation_and_feedback_is_stored(client: TestClient) -> None:
    first = open_session(client)
    turn_id = chat(client, first["token"], "when are you open?")[-1][1]["turn_id"]
    again = open_session(client, first["token"])  # the page was reloaded
    assert again["resumed"] and again["session"] == first["session"]
    rated = client.post("/web/feedback", json={"turn_id": turn_id, "rating": -1,
                                               "token": again["token"]})
    assert rated.status_code == 204
    history = client.get("/web/history", headers={"Authorization": f"Bearer {again['token']}"})
    assert history.json()["turns"][0]["rating"] == -1
    assert client.post("/web/feedback", json={"turn_id": "nope", "rating": 1,
                                              "token": again["token"]}).status_code == 404


def test_a_quick_reply_button_comes_with_the_reply(client: TestClient) -> None:
    token = open_session(client)["token"]
    asked = chat(client, token, "where is my order?")[-1][1]
    assert "order number" in asked["text"]
    answered = chat(client, token, "10045")[-1][1]  # the form goes on in the same conversation
    assert "e-mail" in answered["text"]


@pytest.mark.parametrize("origin", ["https://evil.example", None, "https://shop.example.evil"])
def test_other_origins_get_no_session(bot_dir: Path, origin: str | None) -> None:
    with TestClient(web_app(bot_dir)) as client:
        headers = {"Origin": origin} if origin else {}
        response = client.post("/web/session", json={}, headers=headers)
        assert response.status_code == 403
        assert "allowed_origins" in response.json()["detail"]
        # the server's own pages (the demo at /) may
        own = client.post("/web/session", json={}, headers={"Origin": "http://testserver"})
        assert own.status_code == 200


def test_a_token_used_from_another_origin_is_refused(client: TestClient) -> None:
    token = open_session(client)["token"]
    response = client.post("/web/chat", json={"text": "hi", "token": token},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


class Backdated(TimestampSigner):
    def get_timestamp(self) -> int:  # signed 31 days ago
        return int(time.time()) - 31 * 86400


@pytest.mark.parametrize("forge", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered
    lambda token: URLSafeTimedSerializer("another-secret", salt=SALT).dumps(["s1", time.time()]),
    lambda token: URLSafeTimedSerializer(SECRET, salt="another.purpose").dumps(
        ["s1", time.time()]),
    lambda token: URLSafeTimedSerializer(SECRET, salt=SALT).dumps({"session": "s1"}),
    lambda token: URLSafeTimedSerializer(SECRET, salt=SALT).dumps("s1"),
    lambda token: URLSafeTimedSerializer(SECRET, salt=SALT, signer=Backdated).dumps(
        ["s1", time.time()]),
    lambda token: URLSafeTimedSerializer(SECRET, salt=SALT).dumps(  # opened 31 days ago
        ["s1", time.time() - 31 * 86400]),
    lambda token: "",
])
def test_forged_and_expired_tokens_are_refused(client: TestClient, forge: Any) -> None:
    token = forge(open_session(client)["token"])
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/web/chat", json={"text": "hours?"}, headers=auth).status_code == 401
    assert client.get("/web/history", headers=auth).status_code == 401
    assert client.post("/web/feedback", json={"turn_id": "t", "rating": 1, "token": token}
                       ).status_code == 401
    fresh = open_session(client, token)  # resuming one starts a new conversation
    assert not fresh["resumed"] and fresh["session"] != "s1"


def test_a_token_reaches_only_its_own_conversation(client: TestClient) -> None:
    mine, theirs = open_session(client), open_session(client)
    turn_id = chat(client, theirs["token"], "when are you open?")[-1][1]["turn_id"]
    mine_auth = {"Authorization": f"Bearer {mine['token']}"}
    assert client.get("/web/history", headers=mine_auth).json() == {"turns": []}
    assert client.post("/web/feedback", json={"turn_id": turn_id, "rating": 1},
                       headers=mine_auth).status_code == 404


def test_an_oversize_message_is_413_and_not_kept(bot_dir: Path) -> None:
    app = web_app(bot_dir, server={"max_body_bytes": 4096})
    with TestClient(app, headers={"Origin": SHOP}) as client:
        token = open_session(client)["token"]
        auth = {"Authorization": f"Bearer {token}"}
        response = client.post("/web/chat", json={"text": "x" * 5000}, headers=auth)
        assert response.status_code == 413
        assert client.get("/web/history", headers=auth).json() == {"turns": []}


def test_rate_limits_count_per_session_and_new_sessions_per_address(bot_dir: Path) -> None:
    config = configure(bot_dir, guard={"rate_limit": {"per_user": 2, "per_conversation": 50}},
                       channels={"web": {"allowed_origins": [SHOP], "sessions_per_minute": 3}})
    app = create_app(config, Settings(parley_session_secret=SECRET))
    with TestClient(app, headers={"Origin": SHOP}) as client:
        token = open_session(client)["token"]
        for _ in range(2):
            assert chat(client, token, "hours?")[-1][0] == "reply"
        limited = chat(client, token, "hours?")
        assert limited == [("error", {"text": limited[0][1]["text"], "code": "rate_limited"})]
        assert chat(client, open_session(client)["token"], "hours?")[-1][0] == "reply"
        assert open_session(client)["token"]  # its own limit, not the messages' (2)
        fourth = client.post("/web/session", json={})  # a fresh limit for every message: no
        assert fourth.status_code == 429 and fourth.headers["Retry-After"] == "60"
        assert open_session(client, token)["resumed"]  # resuming is not a new session


@contextmanager
def uvicorn_serving(app: FastAPI) -> Iterator[str]:
    """The app on a real socket (in-process clients cannot hang up mid-response)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_client_that_hangs_up_mid_answer_still_gets_its_turn_saved(
    bot_dir: Path, openai_stub: OpenAIStub,
) -> None:
    gate = threading.Event()

    def slow(request: dict[str, Any]) -> str:
        gate.wait(30)
        return "Returns are accepted within 60 days [1]."

    openai_stub.reply = slow
    app = web_app(bot_dir, model=stub_model(openai_stub))
    with uvicorn_serving(app) as base, httpx.Client(base_url=base,
                                                     headers={"Origin": SHOP}) as client:
        token = client.post("/web/session", json={}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        with client.stream("POST", "/web/chat", json={"text": "how do I return boots?"},
                           headers=auth) as response:
            assert response.status_code == 200
            while not openai_stub.requests:  # the turn has reached the model
                time.sleep(0.05)
        # the connection is closed; the model answers only now
        gate.set()
        deadline = time.monotonic() + 30
        while not (turns := client.get("/web/history", headers=auth).json()["turns"]):
            assert time.monotonic() < deadline, "the turn was not saved"
            time.sleep(0.1)
    assert turns[0]["text"] == "Returns are accepted within 60 days [1]."
    assert turns[0]["user_text"] == "how do I return boots?"


def test_the_widget_and_demo_page_are_served(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert len(script.content) < 30_000
    page = client.get("/")
    assert page.status_code == 200 and 'src="/widget.js"' in page.text


def test_without_a_web_channel_there_are_no_widget_routes(bot_dir: Path) -> None:
    config = configure(bot_dir, channels={})
    with TestClient(create_app(config, Settings())) as client:
        assert client.post("/web/session", json={}).status_code == 404
        assert client.get("/widget.js").status_code == 404


def test_production_needs_a_session_secret(bot_dir: Path) -> None:
    config = configure(bot_dir, channels={"web": {}})
    with pytest.raises(Exception, match="PARLEY_SESSION_SECRET"):
        create_app(config, Settings(parley_env="production"))


def test_a_source_with_a_base_url_cites_its_public_pages(bot_dir: Path) -> None:
    docs = {"name": "docs", "path": "knowledge/docs", "base_url": "https://acme.example/help/"}
    app = web_app(bot_dir, knowledge={"sources": [docs]})
    with TestClient(app, headers={"Origin": SHOP}) as client:
        reply = chat(client, open_session(client)["token"], "how long to return boots?")[-1][1]
    assert reply["citations"][0]["link"] == "https://acme.example/help/returns#time-limits"


def test_base_url_is_for_folders_and_files_only(bot_dir: Path) -> None:
    site = {"name": "site", "url": "https://acme.example/", "base_url": "https://acme.example"}
    with pytest.raises(ConfigError, match="base_url applies to 'path' sources only"):
        configure(bot_dir, knowledge={"sources": [site]})


def test_a_reload_of_the_web_settings_applies_to_sessions_and_cors_at_once(
    bot_dir: Path, client: TestClient,
) -> None:
    other = "https://other.example"
    preflight = {"Access-Control-Request-Method": "POST"}

    def allowed(origin: str) -> tuple[int, str | None]:
        session = client.post("/web/session", json={}, headers={"Origin": origin})
        cors = client.options("/web/chat", headers={**preflight, "Origin": origin})
        return session.status_code, cors.headers.get("access-control-allow-origin")

    assert allowed(SHOP) == (200, SHOP) and allowed(other)[0] == 403
    config = configure(bot_dir, channels={"web": {"allowed_origins": [other],
                                                  "session_ttl_days": 1}})
    assert client.portal is not None
    client.portal.call(client.app.state.bot.reload, config)  # what the file watcher does
    assert allowed(SHOP) == (403, None) and allowed(other) == (200, other)
    session = client.post("/web/session", json={}, headers={"Origin": other}).json()
    assert 86400 - 60 < session["expires_in_s"] <= 86400


def test_resuming_keeps_the_opening_time_so_a_session_ends_after_its_ttl(
    client: TestClient,
) -> None:
    signer = URLSafeTimedSerializer(SECRET, salt=SALT)
    first = open_session(client)
    [session, opened] = signer.loads(first["token"])
    assert session == first["session"]
    for _ in range(2):  # a page reloaded again and again
        again = open_session(client, first["token"])
        assert again["resumed"] and signer.loads(again["token"]) == [session, opened]
        assert again["expires_in_s"] <= first["expires_in_s"]
    nearly = signer.dumps([session, time.time() - 29.9 * 86400])  # signed today
    assert open_session(client, nearly)["resumed"]
    over = signer.dumps([session, time.time() - 30.1 * 86400])
    assert client.get("/web/history", headers={"Authorization": f"Bearer {over}"}
                      ).status_code == 401
    assert not open_session(client, over)["resumed"]
