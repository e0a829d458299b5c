"""The Slack channel through the real ASGI app: requests signed as Slack signs them, the Web
API a stand-in on 127.0.0.1 that records every call. The turn runs after the HTTP response,
so tests wait on the stand-in's calls (with a deadline)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from fastapi.testclient import TestClient

from parley_bot.agents.bot import Bot
from parley_bot.agents.errors import ParleyError
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.settings import Settings
from parley_bot.channels.server import create_app
from parley_bot.channels.slack import credentials
from tests.conftest import configure, stub_model
from tests.utils.cli import parley, serving_many
from tests.utils.openai_stub import OpenAIStub
from tests.utils.slack_stub import (
    SECRET,
    TOKEN,
    SlackStub,
    click,
    event,
    mention,
    serving,
    signed,
    socket_serving,
)

THREAD = "1700000000.000100"
KEY = f"slack:T1:C1:{THREAD}"


@pytest.fixture
def slack() -> Iterator[SlackStub]:
    with serving() as stub:
        yield stub


@pytest.fixture
def client(bot_dir: Path, slack: SlackStub) -> Iterator[TestClient]:
    settings = Settings(slack_signing_secret=SECRET, slack_bot_token=TOKEN,
                        slack_api_url=slack.base_url)
    with TestClient(create_app(load_flows(bot_dir / "flows.yaml"), settings)) as client:
        yield client


def post(client: TestClient, body: str, path: str = "/slack/events",
         **headers: str) -> httpx.Response:
    content_type = "application/json" if body.startswith("{") else (
        "application/x-www-form-urlencoded")
    return client.post(path, content=body, headers={
        "Content-Type": content_type, **signed(body), **headers})


def answered(count: int) -> Callable[[SlackStub], bool]:
    """The stand-in has `count` replies started and finished."""
    def done(stub: SlackStub) -> bool:
        return len(stub.replies()) >= count and len(stub.finals()) >= count
    return done


def bot(client: TestClient) -> Bot:
    opened: Bot = client.app.state.bot  # type: ignore[attr-defined]
    return opened


def test_a_mention_gets_one_reply_in_its_thread(client: TestClient, slack: SlackStub) -> None:
    response = post(client, event(mention("how long do I have to return boots?")))
    assert response.status_code == 200
    slack.wait(answered(1))
    [started] = slack.replies()  # a stream, in the mention's thread
    assert started["channel"] == "C1" and started["thread_ts"] == THREAD
    assert started["recipient_user_id"] == "U1" and started["recipient_team_id"] == "T1"
    [final] = slack.finals()
    assert "60 days" in final["markdown_text"]  # (the extractive answer comes in one piece)
    assert [block["type"] for block in final["blocks"]] == ["context"]  # then its sources
    [turn] = client.portal.call(bot(client).conversation, KEY)  # type: ignore[union-attr]
    assert turn.user_text == "how long do I have to return boots?"


def test_retries_of_an_event_get_no_second_reply(client: TestClient, slack: SlackStub,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    body = event(mention("how long do I have to return boots?"))
    with caplog.at_level(logging.INFO, logger="parley.slack"):
        assert post(client, body).status_code == 200
        for retry in ("1", "2", "3"):
            response = post(client, body, **{"X-Slack-Retry-Num": retry,
                                             "X-Slack-Retry-Reason": "http_timeout"})
            assert response.status_code == 200
        slack.wait(answered(1))
        slack.wait(lambda _: caplog.text.count("dropped a repeated delivery") == 3)
    assert len(slack.replies()) == 1


@pytest.mark.parametrize("headers", [
    signed("{}", secret="not-the-secret"),  # signed with another secret (and another body)
    signed(event(mention("hi")), at=1_600_000_000),  # a replay: five minutes too old
])
def test_a_bad_or_stale_signature_is_401_and_unanswered(
        client: TestClient, slack: SlackStub, headers: dict[str, str]) -> None:
    response = client.post("/slack/events", content=event(mention("hi")),
                           headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    # a good request after it is answered, and is the only one
    assert post(client, event(mention("when are you open?"), "Ev2")).status_code == 200
    slack.wait(answered(1))
    assert len(slack.replies()) == 1


def test_a_button_click_is_the_next_turn_of_the_thread(client: TestClient,
                                                       slack: SlackStub) -> None:
    assert post(client, event(mention("how long do I have to return boots?"))).status_code == 200
    slack.wait(answered(1))
    reply = {"type": "message", "ts": "1800000000.000001", "thread_ts": THREAD,
             "bot_id": "BBOT", "text": "…"}
    response = post(client, click("and sizing of boots?", reply), path="/slack/interactions")
    assert response.status_code == 200
    slack.wait(answered(2))
    assert slack.replies()[1]["thread_ts"] == THREAD
    turns = client.portal.call(bot(client).conversation, KEY)  # type: ignore[union-attr]
    assert [t.user_text for t in turns] == ["how long do I have to return boots?",
                                            "and sizing of boots?"]


def test_a_rate_limited_call_is_retried_after_retry_after(
        client: TestClient, slack: SlackStub, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    sleep = asyncio.sleep

    async def recorded(delay: float, *args: object) -> object:
        if delay < 30:  # the event loop's own short sleeps
            return await sleep(delay, *args)
        waits.append(delay)  # slack_sdk waiting out Retry-After: recorded, not waited
        return await sleep(0, *args)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    slack.limited["chat.startStream"], slack.retry_after = 1, 30
    assert post(client, event(mention("when are you open?"))).status_code == 200
    slack.wait(answered(1))
    attempts = [args for method, args, _ in slack.calls if method == "chat.startStream"]
    assert ["failed" in a for a in attempts] == [True, False]  # the 429, then the retry
    assert len(waits) == 1 and 30 <= waits[0] < 31  # after Retry-After: 30
    assert len(slack.replies()) == 1


def test_a_direct_message_is_one_conversation_answered_in_place(client: TestClient,
                                                                slack: SlackStub) -> None:
    dm = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
          "text": "when are you open?", "ts": "1700000000.000200"}
    assert post(client, event(dm)).status_code == 200
    slack.wait(answered(1))  # no thread to stream into: a message, edited
    [posted] = slack.called("chat.postMessage")
    assert posted["channel"] == "D1" and "thread_ts" not in posted
    assert client.portal.call(bot(client).conversation, "slack:T1:D1")  # type: ignore[union-attr]


def test_bots_edits_deletions_and_channel_chatter_are_not_answered(
        client: TestClient, slack: SlackStub) -> None:
    im = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
          "text": "when are you open?", "ts": "1700000000.000300"}
    ignored = [
        {**im, "bot_id": "B2", "subtype": "bot_message"},  # another bot
        {**im, "user": "UBOT", "bot_id": "BBOT"},  # our own reply
        {**im, "subtype": "message_changed", "message": {"text": "edited"}},
        {**im, "subtype": "message_deleted"},
        {**im, "channel_type": "channel", "channel": "C1"},  # not a mention
    ]
    for n, inner in enumerate(ignored):
        assert post(client, event(inner, f"EvIgnored{n}")).status_code == 200
    assert post(client, event(mention("when are you open?"), "EvReal")).status_code == 200
    slack.wait(answered(1))
    [started] = slack.replies()
    assert started["channel"] == "C1" and started["thread_ts"] == THREAD


def test_a_thumbs_reaction_rates_the_answer(client: TestClient, slack: SlackStub,
                                            caplog: pytest.LogCaptureFixture) -> None:
    assert post(client, event(mention("how long do I have to return boots?"))).status_code == 200
    slack.wait(answered(1))
    ts = slack.finals()[-1]["ts"]
    reaction = {"type": "reaction_added", "user": "U1", "reaction": "-1::skin-tone-2",
                "item_user": "UBOT", "item": {"type": "message", "channel": "C1", "ts": ts},
                "event_ts": "1700000001.000100"}
    # someone else's thumbs up first: not the asker's, so no rating
    others = {**reaction, "user": "U2", "reaction": "+1"}
    with caplog.at_level(logging.INFO, logger="parley.slack"):
        assert post(client, event(others, "EvOthers")).status_code == 200
        slack.wait(lambda _: "is no rating" in caplog.text)
    [turn] = client.portal.call(bot(client).conversation, KEY)  # type: ignore[union-attr]
    assert turn.feedback is None
    assert post(client, event(reaction, "EvReaction")).status_code == 200

    def rated(_: SlackStub) -> bool:
        turns = client.portal.call(bot(client).conversation, KEY)  # type: ignore[union-attr]
        return turns[0].feedback is not None and turns[0].feedback.rating == -1
    slack.wait(rated)


def test_the_channel_is_off_without_its_signing_secret(bot_dir: Path) -> None:
    with TestClient(create_app(load_flows(bot_dir / "flows.yaml"), Settings())) as client:
        assert post(client, event(mention("hi"))).status_code == 404


def test_a_signing_secret_without_a_bot_token_is_refused(bot_dir: Path) -> None:
    with pytest.raises(ParleyError, match="SLACK_BOT_TOKEN"):
        create_app(load_flows(bot_dir / "flows.yaml"), Settings(slack_signing_secret=SECRET))


def test_two_workers_on_one_store_answer_an_event_once(
        bot_dir: Path, slack: SlackStub, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN,
                        "SLACK_API_URL": slack.base_url}.items():
        monkeypatch.setenv(name, value)
    body = event(mention("when are you open?"))
    with serving_many(bot_dir, count=2) as bases:
        for base in bases:  # the same delivery reaches both processes
            response = httpx.post(f"{base}/slack/events", content=body, headers={
                "Content-Type": "application/json", **signed(body)})
            assert response.status_code == 200
        logs = [bot_dir / f"serve-{n}.log" for n in range(2)]
        slack.wait(answered(1))
        slack.wait(lambda _: any("dropped a repeated delivery" in log.read_text()
                                 for log in logs))
    assert len(slack.replies()) == 1
    assert json.loads(body)["event_id"] in "\n".join(log.read_text() for log in logs)


def test_a_refused_reply_is_logged_with_its_conversation_and_the_next_is_answered(
        client: TestClient, slack: SlackStub, caplog: pytest.LogCaptureFixture) -> None:
    slack.errors["chat.startStream"] = slack.errors["chat.postMessage"] = "channel_not_found"
    with caplog.at_level(logging.ERROR, logger="parley.slack"):
        assert post(client, event(mention("when are you open?"))).status_code == 200
        slack.wait(lambda _: "channel_not_found" in caplog.text)
    assert KEY in caplog.text and "Ev1" in caplog.text
    second = mention("when are you open?", ts="1700000000.000500")
    assert post(client, event(second, "Ev2")).status_code == 200
    slack.wait(answered(1))


def test_where_streams_are_refused_replies_are_edited_messages(
        client: TestClient, slack: SlackStub) -> None:
    slack.errors["chat.startStream"] = "not_allowed"
    assert post(client, event(mention("when are you open?"))).status_code == 200
    slack.wait(answered(1))
    [posted] = slack.called("chat.postMessage")
    assert posted["thread_ts"] == THREAD and posted["text"] == "…"
    [final] = slack.finals()
    assert final["ts"] == slack.finals()[0]["ts"] and final["blocks"][0]["type"] == "section"
    second = mention("what are your opening hours?", ts="1700000000.000900")
    assert post(client, event(second, "Ev2")).status_code == 200
    slack.wait(answered(2))
    assert [name for name, _, _ in slack.calls].count("chat.startStream") == 1  # not again


def test_an_assistant_thread_is_offered_prompts_from_the_skills(
        client: TestClient, slack: SlackStub) -> None:
    started = {"type": "assistant_thread_started", "event_ts": "1700000000.000701",
               "assistant_thread": {"user_id": "U1", "channel_id": "D1",
                                    "thread_ts": "1700000000.000700", "context": {}}}
    assert post(client, event(started)).status_code == 200
    slack.wait(lambda s: bool(s.called("assistant.threads.setSuggestedPrompts")))
    [offered] = slack.called("assistant.threads.setSuggestedPrompts")
    prompts = offered["prompts"]
    prompts = json.loads(prompts) if isinstance(prompts, str) else prompts
    skills = [s for s in bot(client).config.skills if s.examples]
    assert 0 < len(prompts) <= 4
    assert prompts[0]["message"] == skills[0].examples[0]
    assert offered["channel_id"] == "D1" and offered["thread_ts"] == "1700000000.000700"


def test_a_question_in_an_assistant_thread_shows_thinking_and_names_the_thread(
        client: TestClient, slack: SlackStub) -> None:
    thread = "1700000000.000700"
    for n, text in enumerate(["when are you open?", "and how long do returns take?"]):
        asked = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
                 "text": text, "ts": f"1700000000.00080{n}", "thread_ts": thread}
        assert post(client, event(asked, f"EvAsk{n}")).status_code == 200
        slack.wait(answered(n + 1))
    assert [s["status"] for s in slack.called("assistant.threads.setStatus")] == [
        "is thinking…"] * 2
    [titled] = slack.called("assistant.threads.setTitle")  # named once, after the first
    assert titled["title"] == "when are you open?"
    assert [r["thread_ts"] for r in slack.replies()] == [thread, thread]
    turns = client.portal.call(  # type: ignore[union-attr]
        bot(client).conversation, f"slack:T1:D1:{thread}")
    assert len(turns) == 2


def test_socket_mode_takes_events_over_the_websocket(bot_dir: Path, slack: SlackStub) -> None:
    settings = Settings(slack_bot_token=TOKEN, slack_app_token="xapp-test",
                        slack_api_url=slack.base_url)  # no signing secret: no HTTP routes
    with socket_serving() as socket:
        slack.socket_url = socket.url
        app = create_app(load_flows(bot_dir / "flows.yaml"), settings, slack_socket=True)
        with TestClient(app) as client:
            socket.deliver(event(mention("how long do I have to return boots?")))
            slack.wait(answered(1))
            slack.wait(lambda _: {"envelope_id": "env-1"} in socket.received)  # acknowledged
            assert post(client, event(mention("hi"), "Ev2")).status_code == 404
    assert slack.called("apps.connections.open")
    assert slack.replies()[0]["thread_ts"] == THREAD


def test_socket_mode_without_an_app_token_is_refused(bot_dir: Path) -> None:
    with pytest.raises(ParleyError, match="SLACK_APP_TOKEN"):
        create_app(load_flows(bot_dir / "flows.yaml"), Settings(slack_bot_token=TOKEN),
                   slack_socket=True)


def test_the_event_is_acknowledged_before_the_model_answers(
        bot_dir: Path, slack: SlackStub, openai_stub: OpenAIStub) -> None:
    config = configure(bot_dir, model=stub_model(openai_stub))
    openai_stub.mode = "hang"  # the model answers nothing until released
    settings = Settings(slack_signing_secret=SECRET, slack_bot_token=TOKEN,
                        slack_api_url=slack.base_url)
    with TestClient(create_app(config, settings)) as client:
        response = post(client, event(mention("how long do I have to return boots?")))
        assert response.status_code == 200 and not slack.finals()
        slack.wait(lambda _: bool(openai_stub.requests))  # the turn is with the model
        openai_stub.release.set()  # the model fails now: the fallback answer is the reply
        slack.wait(answered(1))
    assert len(slack.replies()) == 1


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--slack-socket", "--workers", "2"], {"SLACK_BOT_TOKEN": TOKEN,
                                            "SLACK_APP_TOKEN": "xapp-test"},
     "--slack-socket runs in one worker process"),
    ([], {"SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN is not set"),
])
def test_serve_refuses_an_incomplete_slack_set_up(
        bot_dir: Path, args: list[str], env: dict[str, str], message: str) -> None:
    result = parley("serve", *args, cwd=bot_dir, env=env)
    assert result.returncode == 1 and message in result.stderr


@pytest.mark.parametrize("name", ["slack_signing_secret", "slack_bot_token", "slack_app_token"])
def test_a_placeholder_slack_secret_is_refused_in_production(name: str) -> None:
    with pytest.raises(ValueError, match=name.upper()):
        Settings(**{name: "changethis"}, parley_env="production")  # type: ignore[arg-type]


def test_flows_yaml_may_name_other_variables(bot_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config = configure(bot_dir, channels={"slack": {"signing_secret_env": "ACME_SLACK_SECRET",
                                                    "bot_token_env": "ACME_SLACK_TOKEN"}})
    assert credentials(config, Settings(slack_signing_secret=SECRET)) is None  # not its name
    monkeypatch.setenv("ACME_SLACK_SECRET", "acme-secret")
    monkeypatch.setenv("ACME_SLACK_TOKEN", "xoxb-acme")
    found = credentials(config, Settings())
    assert found is not None and (found.signing_secret, found.bot_token) == (
        "acme-secret", "xoxb-acme")


def raw_post(client: TestClient, body: bytes | str, path: str = "/slack/events",
             content_type: str = "application/json", **headers: str) -> httpx.Response:
    return client.post(path, content=body, headers={"Content-Type": content_type, **headers})


def _form(payload: dict[str, object]) -> str:
    return urlencode({"payload": json.dumps(payload)})


JUNK = ["{oops", "[1]", '"hi"', "", '{"no": "type"}', '{"type": "event_callback"}',
        '{"type": "event_callback", "event": {"user": "U1"}}']


@pytest.mark.parametrize("body", JUNK)
def test_signed_junk_is_400_and_unsigned_junk_401(client: TestClient, slack: SlackStub,
                                                  body: str) -> None:
    assert raw_post(client, body, **signed(body)).status_code == 400
    assert raw_post(client, body, **signed(body, secret="not-the-secret")).status_code == 401
    assert not slack.calls


@pytest.mark.parametrize("timestamp", ["abc", "", "-1", "1e9"])
def test_a_timestamp_that_is_no_number_is_401(client: TestClient, timestamp: str) -> None:
    body = event(mention("hi"))
    headers = {**signed(body), "X-Slack-Request-Timestamp": timestamp}
    assert raw_post(client, body, **headers).status_code == 401


def test_a_body_that_is_no_utf8_is_400(client: TestClient) -> None:
    body = b'{"a": "\xff\xfe"}'
    headers = signed(body.decode("latin-1"))
    assert raw_post(client, body, **headers).status_code == 400


@pytest.mark.parametrize("body", ["payload=%7Bx", "payload=%5B1%5D", "nothing=here", _form(
    {"type": "view_submission", "view": {"id": "V1"}}), _form({"type": "block_actions"})])
def test_a_broken_interaction_is_400(client: TestClient, body: str) -> None:
    form = "application/x-www-form-urlencoded"
    assert raw_post(client, body, "/slack/interactions", form, **signed(body)).status_code == 400


def _click(**changes: object) -> dict[str, object]:
    reply = {"type": "message", "ts": "1800000000.000001", "thread_ts": THREAD}
    payload: dict[str, object] = json.loads(dict(parse_qsl(click("yes", reply)))["payload"])
    payload.update(changes)
    return payload


HARMLESS_INTERACTIONS = [
    {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U1"},
     "view": {"id": "V1", "type": "modal", "callback_id": "x"}},
    {"type": "shortcut", "team": {"id": "T1"}, "user": {"id": "U1"}, "callback_id": "x",
     "trigger_id": "t"},
    _click(actions=[{"action_id": "someone_elses", "block_id": "b", "type": "button",
                     "value": "v", "action_ts": "1700000009.000002"}]),
    _click(actions=[{"action_id": "parley_reply_0", "block_id": "b", "type": "button",
                     "action_ts": "1700000009.000003"}]),  # no value
    {k: v for k, v in _click().items() if k != "channel"},
]
HARMLESS_EVENTS = [
    {"type": "channel_created", "channel": {"id": "C9"}},
    {k: v for k, v in mention("hi").items() if k != "channel"},
    {k: v for k, v in mention("hi").items() if k != "ts"},
    {"type": "reaction_added", "user": "U1", "item": {"type": "message", "channel": "C1"}},
    {"type": "reaction_added", "user": "U1", "reaction": "+1"},
]


@pytest.mark.parametrize("payload", HARMLESS_INTERACTIONS + HARMLESS_EVENTS)
def test_signed_payloads_the_channel_does_not_take_are_acknowledged_unanswered(
        client: TestClient, slack: SlackStub, caplog: pytest.LogCaptureFixture,
        payload: dict[str, object]) -> None:
    body = _form(payload) if payload in HARMLESS_INTERACTIONS else event(payload)
    path = "/slack/interactions" if payload in HARMLESS_INTERACTIONS else "/slack/events"
    with caplog.at_level(logging.WARNING):
        assert post(client, body, path=path).status_code == 200
        # what comes after it is answered, and is the only reply
        assert post(client, event(mention("when are you open?"), "Ev2")).status_code == 200
        slack.wait(answered(1))
    assert len(slack.replies()) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_a_retried_question_in_an_assistant_thread_shows_thinking_once(
        client: TestClient, slack: SlackStub, caplog: pytest.LogCaptureFixture) -> None:
    asked = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
             "text": "when are you open?", "ts": "1700000000.000800",
             "thread_ts": "1700000000.000700"}
    with caplog.at_level(logging.INFO, logger="parley.slack"):
        assert post(client, event(asked, "EvAsk")).status_code == 200
        slack.wait(answered(1))
        assert post(client, event(asked, "EvAsk"), **{"X-Slack-Retry-Num": "1"}).status_code == 200
        slack.wait(lambda _: "dropped a repeated delivery" in caplog.text)
    assert len(slack.called("assistant.threads.setStatus")) == 1


def test_renamed_variables_are_read_from_dot_env_and_the_choice_is_logged(
        bot_dir: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    config = configure(bot_dir, channels={"slack": {"signing_secret_env": "ACME_SLACK_SECRET",
                                                    "bot_token_env": "ACME_SLACK_TOKEN"}})
    monkeypatch.chdir(bot_dir)
    with caplog.at_level(logging.INFO, logger="parley.slack"):
        assert credentials(config, Settings()) is None
        assert "Slack is off: ACME_SLACK_SECRET is not set" in caplog.text
        (bot_dir / ".env").write_text("ACME_SLACK_SECRET=acme-secret\n"
                                      "ACME_SLACK_TOKEN=xoxb-acme\n")
        found = credentials(config, Settings())
        assert "Slack is on" in caplog.text
    assert found is not None and (found.signing_secret, found.bot_token) == (
        "acme-secret", "xoxb-acme")
    assert "acme-secret" not in repr(found) and "xoxb-acme" not in repr(found)


@pytest.mark.parametrize(("given", "kept"), [
    ("http://127.0.0.1:9/api", "http://127.0.0.1:9/api/"),
    ("https://slack.com/api/", "https://slack.com/api/")])
def test_the_api_url_keeps_its_path(given: str, kept: str) -> None:
    assert Settings(slack_api_url=given).slack_api_url == kept


def test_an_api_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="SLACK_API_URL"):
        Settings(slack_api_url="slack.com/api")


def _with_file(slack: SlackStub, url: str, ts: str, event_id: str) -> str:
    shared = mention("what does my note say?", ts=ts, subtype="file_share", files=[
        {"id": "F1", "name": "note.txt", "mimetype": "text/plain", "url_private": url}])
    return event(shared, event_id)


def test_a_file_sent_with_a_question_is_downloaded_with_the_bot_token(
        client: TestClient, slack: SlackStub) -> None:
    slack.files["/files-pri/T1-F1/note.txt"] = (b"Boots bought in March ship free.", "text/plain")
    url = f"{slack.base_url}files-pri/T1-F1/note.txt"
    assert post(client, _with_file(slack, url, THREAD, "EvFile")).status_code == 200
    slack.wait(answered(1))
    assert slack.downloads == [("/files-pri/T1-F1/note.txt", f"Bearer {TOKEN}")]
    [turn] = client.portal.call(bot(client).conversation, KEY)  # type: ignore[union-attr]
    assert "couldn't open" not in turn.reply


@pytest.mark.parametrize(("content", "url"), [
    (b"x" * 10_000_001, "{base}files-pri/T1-F1/note.txt"),  # over max_file_bytes
    (b"fine", "http://localhost:1/files-pri/T1-F1/note.txt"),  # not Slack's host
])
def test_a_file_that_cannot_be_taken_is_declined_in_the_thread(
        client: TestClient, slack: SlackStub, content: bytes, url: str) -> None:
    slack.files["/files-pri/T1-F1/note.txt"] = (content, "text/plain")
    assert post(client, _with_file(slack, url.format(base=slack.base_url), THREAD,
                                   "EvFile")).status_code == 200
    slack.wait(lambda s: bool(s.called("chat.postMessage")))
    [declined] = slack.called("chat.postMessage")
    assert declined["thread_ts"] == THREAD and "file" in declined["text"]
    assert not slack.replies()[1:] and not slack.called("chat.startStream")
