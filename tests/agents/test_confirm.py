"""`confirm: true` tools on the JSON API (the real app, its lifespan and store): the stand-in
model proposes the call, the bot asks yes or no with buttons, and the call runs only on a
yes, also after the process that asked has stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from parley_bot.agents import confirm
from parley_bot.agents.bot import Bot
from parley_bot.agents.confirm import answer_of
from parley_bot.agents.flowsfile import load_flows
from parley_bot.channels.server import create_app
from tests.conftest import configure, stub_model
from tests.utils.api_stub import ApiStub
from tests.utils.messages import inbound
from tests.utils.openai_stub import OpenAIStub, ToolCall

CANCEL = {"name": "cancel_order", "description": "Cancel an order", "method": "POST",
          "url": "${ORDERS_API}/echo/cancel/{number}", "confirm": True,
          "args": {"number": {"description": "5 digits", "pattern": r"\d{5}"}}}
ORDERS = {"name": "orders", "kind": "agent", "tools": ["cancel_order"],
          "description": "Cancelling orders",
          "examples": ["cancel my order", "I want to cancel order 10045",
                       "please cancel my purchase", "stop my order"]}
RETURNS = {"name": "returns", "examples": ["how do I return something", "I want a refund"]}
ASK = "please cancel my order 10045"


@pytest.fixture
def bot_dir_with_cancel(bot_dir: Path, openai_stub: OpenAIStub, api_stub: ApiStub,
                        monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORDERS_API", api_stub.base_url)

    def reply(request: dict[str, Any]) -> str | list[ToolCall]:
        results = [m["content"] for m in request["messages"] if m["role"] == "tool"]
        if not results:
            return [ToolCall("cancel_order", {"number": "10045"})]
        return "Order 10045 is cancelled." if "Result of" in results[0] else "Not done."

    openai_stub.reply = reply
    configure(bot_dir, skills=[RETURNS, ORDERS], tools=[CANCEL], model=stub_model(openai_stub))
    return bot_dir


def app_client(bot_dir: Path) -> TestClient:
    return TestClient(create_app(load_flows(bot_dir / "flows.yaml")))


def chat(client: TestClient, text: str, conversation: str = "c1") -> dict[str, Any]:
    response = client.post("/api/chat", json={"conversation_id": conversation, "text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def client(bot_dir_with_cancel: Path) -> Iterator[TestClient]:
    with app_client(bot_dir_with_cancel) as client:
        yield client


def test_the_tool_asks_first_and_runs_after_yes(client: TestClient, api_stub: ApiStub) -> None:
    asked = chat(client, ASK)
    assert asked["reply"] == "Before I go ahead: Cancel an order (number: 10045). Shall I do it?"
    assert asked["buttons"] == [{"label": "Yes", "value": "yes"}, {"label": "No", "value": "no"}]
    assert asked["skill"] == "orders" and api_stub.requests == []
    done = chat(client, "yes")
    assert done["reply"] == "Order 10045 is cancelled." and done["skill"] == "orders"
    assert [(r["method"], r["path"]) for r in api_stub.requests] == [
        ("POST", "/echo/cancel/10045")]
    chat(client, "yes")  # answered once: a second yes runs nothing
    assert len(api_stub.requests) == 1


def test_no_cancels_politely_and_nothing_runs(client: TestClient, api_stub: ApiStub) -> None:
    chat(client, ASK)
    cancelled = chat(client, "no thanks")
    assert cancelled["reply"] == "OK, I haven't done it. Is there anything else?"
    chat(client, "yes")
    assert api_stub.requests == []


def test_another_message_drops_the_pending_call(client: TestClient, api_stub: ApiStub) -> None:
    chat(client, ASK)
    chat(client, "how do I return something?")
    chat(client, "yes")
    assert api_stub.requests == []


async def test_the_pending_call_survives_the_process(bot_dir_with_cancel: Path,
                                                     api_stub: ApiStub) -> None:
    replies = []
    for text in (ASK, "Ja"):  # each message to a new app on the same store
        app = create_app(load_flows(bot_dir_with_cancel / "flows.yaml"))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://parley") as client:
            response = await client.post("/api/chat",
                                         json={"conversation_id": "c9", "text": text})
            replies.append(response.json()["reply"])
    assert replies[1] == "Order 10045 is cancelled."
    assert [r["path"] for r in api_stub.requests] == ["/echo/cancel/10045"]


async def test_a_yes_after_a_reload_took_the_skill_away_runs_nothing(
    bot_dir_with_cancel: Path, api_stub: ApiStub,
) -> None:
    config = load_flows(bot_dir_with_cancel / "flows.yaml")
    async with Bot.open(config) as bot:
        await bot.handle(inbound(ASK))
        await bot.reload(configure(bot_dir_with_cancel, skills=[RETURNS]))
        reply = await bot.handle(inbound("yes"))
    assert not reply.fallback and reply.skill != "orders" and api_stub.requests == []


@pytest.mark.parametrize(("text", "answer"), [
    ("yes", True), ("Yes please, go ahead", True), ("ok!", True), ("sí", True), ("Ja", True),
    ("oui", True), ("sim", True), ("да", True), ("evet", True), ("是的", True), ("好", True),
    ("no", False), ("No, thanks.", False), ("nein", False), ("non", False), ("não", False),
    ("нет", False), ("hayır", False), ("不要", False), ("不是", False), ("cancel", False),
    ("what are your opening hours?", None), ("yes but first tell me about all your tents "
                                             "and their prices", None), ("", None),
    ("no problem, go ahead", True), ("Ｙｅｓ", True), ("好的！", True), ("ok, thanks", True),
])
def test_yes_and_no_in_the_common_languages(text: str, answer: bool | None) -> None:
    assert answer_of(text) is answer


@pytest.mark.parametrize("text", [
    "yes cancel 99999 instead", "ok wait, which order?", "sure, what's the fee?",
    "ja, aber nicht diese", "对不起", "是不是？", "可以吗？", "好像不对", "confirm?", "ok no",
    "si no es mucho", "yes 👍 but later", "yes?", "please",
])
def test_a_yes_with_more_to_it_is_not_an_answer(text: str) -> None:
    """A question, a condition, another order number or yes and no together: not a yes, so
    the side-effecting call does not run on it."""
    assert answer_of(text) is None


def test_a_conditional_yes_runs_nothing(client: TestClient, api_stub: ApiStub) -> None:
    chat(client, ASK)
    chat(client, "yes cancel 99999 instead")  # a new request (the stand-in asks again)
    assert api_stub.requests == []


def test_only_the_user_who_was_asked_can_say_yes(client: TestClient, api_stub: ApiStub) -> None:
    def say(text: str, user: str) -> dict[str, Any]:
        response = client.post("/api/chat", json={"conversation_id": "group", "text": text,
                                                  "user_id": user})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    say(ASK, "ana")
    # Another participant's yes is a new message of theirs: nothing runs on it (the stand-in
    # model proposes the call again, so Bob is now asked himself).
    assert say("yes", "bob")["reply"].startswith("Before I go ahead")
    assert api_stub.requests == []
    assert say("yes", "bob")["reply"] == "Order 10045 is cancelled."
    assert [r["path"] for r in api_stub.requests] == ["/echo/cancel/10045"]


def test_a_yes_after_the_question_expired_runs_nothing(
    client: TestClient, api_stub: ApiStub, monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat(client, ASK)
    monkeypatch.setattr(confirm, "PENDING_TTL_S", -1.0)  # every question is already too old
    chat(client, "yes")
    assert api_stub.requests == []
