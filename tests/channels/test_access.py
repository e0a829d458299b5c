"""The HTTP server's locks and limits: the JSON API's token, body sizes, bad text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.settings import Settings
from parley_bot.channels.access import is_loopback
from parley_bot.channels.server import create_app
from tests.conftest import configure

TOKEN = "a-real-api-token"
CHAT = {"conversation_id": "c1", "text": "when are you open?"}


def serving(bot_dir: Path, token: str | None, host: str | None) -> TestClient:
    settings = Settings(parley_api_token=token)
    return TestClient(create_app(load_flows(bot_dir / "flows.yaml"), settings, host=host))


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1", None])
@pytest.mark.parametrize(("given", "status"), [(None, 401), ("wrong", 401), (TOKEN, 200)])
def test_with_a_token_the_api_and_metrics_need_it(bot_dir: Path, host: str | None,
                                                  given: str | None, status: int) -> None:
    headers = {"Authorization": f"Bearer {given}"} if given else {}
    with serving(bot_dir, TOKEN, host) as client:
        assert client.post("/api/chat", json=CHAT, headers=headers).status_code == status
        assert client.get("/api/conversations/c1", headers=headers).status_code in (
            status, 404)  # 404: the chat above was refused, so there is nothing to read
        assert client.get("/metrics", headers=headers).status_code == status
        assert client.get("/healthz").status_code == 200


def test_on_a_public_address_without_a_token_the_api_is_off_and_the_log_says_why(
    bot_dir: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING), serving(bot_dir, None, "0.0.0.0") as client:
        chat = client.post("/api/chat", json=CHAT)
        metrics = client.get("/metrics")
        health = client.get("/healthz")
    assert chat.status_code == metrics.status_code == 404
    assert "PARLEY_API_TOKEN" in chat.json()["detail"]
    assert health.status_code == 200
    assert any("PARLEY_API_TOKEN" in r.getMessage() and "0.0.0.0" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_on_loopback_without_a_token_the_api_stays_open(bot_dir: Path, host: str) -> None:
    with serving(bot_dir, None, host) as client:
        assert client.post("/api/chat", json=CHAT).status_code == 200
        assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", None])
def test_in_production_without_a_token_the_api_is_off_even_on_loopback(
    bot_dir: Path, host: str | None, caplog: pytest.LogCaptureFixture,
) -> None:
    """Behind a reverse proxy (`serve --host 127.0.0.1`) every visitor comes from loopback."""
    settings = Settings(parley_env="production", parley_session_secret="a-real-secret")
    config = load_flows(bot_dir / "flows.yaml")
    with caplog.at_level(logging.WARNING), \
            TestClient(create_app(config, settings, host=host)) as client:
        assert client.post("/api/chat", json=CHAT).status_code == 404
        assert client.get("/metrics").status_code == 404
        assert client.get("/api/conversations/c1").status_code == 404
        assert client.get("/healthz").status_code == 200
    assert any("PARLEY_API_TOKEN" in r.getMessage() and "production" in r.getMessage()
               for r in caplog.records)


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.2") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("bot.lan")


@pytest.fixture
def client(bot_dir: Path) -> Iterator[TestClient]:
    config = configure(bot_dir, server={"max_body_bytes": 2048})
    with TestClient(create_app(config, Settings(parley_api_token=None))) as client:
        yield client


def test_a_body_over_the_limit_is_413_from_its_content_length(client: TestClient) -> None:
    response = client.post("/api/chat", json={"conversation_id": "big", "text": "x" * 3000})
    assert response.status_code == 413
    assert "2048" in response.json()["detail"] and "xxx" not in response.text
    assert client.get("/api/conversations/big").status_code == 404


def test_a_streamed_body_is_cut_off_once_it_passes_the_limit(client: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for n in range(100):
            sent.append(n)
            yield b'{"conversation_id": "big", "text": "' if n == 0 else b"x" * 512

    response = client.post("/api/chat", content=chunks(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert client.get("/api/conversations/big").status_code == 404


def test_a_bad_content_length_is_400(bot_dir: Path) -> None:
    with serving(bot_dir, None, None) as client:
        request = client.build_request("POST", "/api/chat", content=b"{}",
                                       headers={"content-type": "application/json"})
        request.headers["content-length"] = "lots"
        assert client.send(request).status_code == 400


@pytest.mark.parametrize("body", [
    b'{"conversation_id": "s", "text": "\\ud800 broken"}',
    b'{"conversation_id": "\\udfff", "text": "hi"}',
    '{"conversation_id": "s", "text": "caf\xe9"}'.encode("latin-1"),
    b'{"conversation_id": "s", "text": "\xff\xfe"}',
])
def test_undecodable_text_is_refused_and_not_echoed(client: TestClient, body: bytes) -> None:
    response = client.post("/api/chat", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)
    assert "broken" not in response.text and "input" not in response.text
    assert client.get("/api/conversations/s").status_code == 404


def test_validation_errors_say_where_without_echoing_the_request(client: TestClient) -> None:
    response = client.post("/api/chat", json={"conversation_id": "c", "text": 5,
                                              "user_id": "secret-user-" * 30})
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert {tuple(p["loc"]) for p in problems} == {("body", "text"), ("body", "user_id")}
    assert "secret-user" not in response.text


def test_a_placeholder_session_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValueError, match="PARLEY_SESSION_SECRET"):
        Settings(parley_session_secret="changethis", parley_env="production")


def test_cors_answers_allowed_origins_only(bot_dir: Path) -> None:
    config = configure(bot_dir, channels={"web": {"allowed_origins": ["https://shop.example"]}})
    with TestClient(create_app(config, Settings())) as client:
        def preflight(origin: str) -> httpx.Response:
            return client.options("/web/chat", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type"})

        allowed, other = preflight("https://shop.example"), preflight("https://evil.example")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


def test_not_found_errors_do_not_repeat_the_ids_asked_for(bot_dir: Path) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with serving(bot_dir, TOKEN, None) as client:
        turn = client.post("/api/chat", json={"conversation_id": "known-conv", "text": "hi"},
                           headers=auth).json()["turn_id"]
        answers = [
            client.get("/api/conversations/secret-conv", headers=auth),
            client.get("/api/conversations/known-conv", params={"before": "secret-before"},
                       headers=auth),
            client.post("/api/feedback/secret-conv", json={"turn_id": "secret-turn",
                                                           "rating": 1}, headers=auth),
            client.post("/api/feedback/known-conv", json={"turn_id": "secret-turn",
                                                          "rating": 1}, headers=auth),
            client.get("/api/admin/conversations/fax:secret-conv", headers=auth),
        ]
    assert [a.status_code for a in answers] == [404, 404, 404, 404, 422]
    for answer in answers:
        assert "secret" not in answer.text and "known-conv" not in answer.text, answer.text
    assert turn not in "".join(a.text for a in answers)


@pytest.mark.parametrize("path", ["/api/conversations/%FF%FE", "/api/conversations/a%C3",
                                  "/api/admin/conversations/api:%80"])
def test_a_path_that_is_not_utf8_is_400_without_echo(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "\ufffd" not in response.text and "%FF" not in response.text


@pytest.mark.parametrize(("token", "host", "given", "schema"), [
    (None, "0.0.0.0", None, 404), (TOKEN, "0.0.0.0", None, 401), (TOKEN, "0.0.0.0", TOKEN, 200),
    (None, "127.0.0.1", None, 200),
])
def test_api_docs_are_off_and_the_schema_is_locked_like_the_api(
    bot_dir: Path, token: str | None, host: str, given: str | None, schema: int,
) -> None:
    headers = {"Authorization": f"Bearer {given}"} if given else {}
    with serving(bot_dir, token, host) as client:
        assert client.get("/docs", headers=headers).status_code == 404
        assert client.get("/redoc", headers=headers).status_code == 404
        answer = client.get("/openapi.json", headers=headers)
    assert answer.status_code == schema
    assert schema != 200 or "/api/chat" in answer.json()["paths"]
