"""WhatsApp through Twilio, end to end: webhooks signed with twilio's own `RequestValidator`,
posted to the running app; replies sent by the real `twilio` client to a stand-in Twilio API
on 127.0.0.1, which also serves the media users send."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from parley_bot.agents import safelog
from parley_bot.agents.config import BotTexts
from parley_bot.agents.settings import Settings
from parley_bot.agents.store.base import Store
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import OutboundMessage
from parley_bot.channels.server import create_app
from parley_bot.channels.twilio_account import twilio_account
from parley_bot.channels.whatsapp import MAX_PART, WhatsApp
from tests.conftest import configure, stub_model
from tests.utils.cli import serving
from tests.utils.openai_stub import OpenAIStub, quoted_blocks
from tests.utils.stores import FailingWrites
from tests.utils.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub, sid_of
from tests.utils.twilio_stub import serving as serving_twilio

PUBLIC = "https://bot.example.com"
SENDER = "whatsapp:+14155238886"
ANN, BOB = "+15551230001", "+15551230002"
LATE = "HX" + "a" * 32
SHIPPED = "HX" + "b" * 32
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d4944415478da63f8cfc0f01f0005000201a5e1d3a40000000049454e44ae426082")


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    with serving_twilio(TwilioStub()) as stub:
        yield stub


def settings(twilio: TwilioStub) -> Settings:
    return Settings(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                    twilio_whatsapp_from=SENDER, public_url=PUBLIC, twilio_api_url=twilio.url)


def serve(bot_dir: Path, twilio: TwilioStub, store: Store | None = None,
          **changes: Any) -> TestClient:
    channels = {"whatsapp": {"templates": {
        "late_answer": {"content_sid": LATE},
        "order_shipped": {"content_sid": SHIPPED, "variables": {"1": "Acme", "2": "?"}},
    }}}
    options = {"store": store} if store is not None else {}
    return TestClient(create_app(configure(bot_dir, channels=channels, **changes),
                                 settings(twilio), **options))


def post(client: TestClient, number: str, text: str = "", sid: str = sid_of("1"),
         signature: str | None = None, path: str = "/whatsapp/webhook",
         **extra: str) -> Any:
    params = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{number}",
              "To": SENDER, "Body": text, "ProfileName": "Ann", "NumMedia": "0", **extra}
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def media(twilio: TwilioStub, media_id: str, kind: str, data: bytes) -> dict[str, str]:
    twilio.media[media_id] = (kind, data)
    return {"NumMedia": "1", "MediaUrl0": twilio.media_url(media_id),
            "MediaContentType0": kind}


def test_a_message_gets_one_reply_and_twilio_its_answer_at_once(
        bot_dir: Path, twilio: TwilioStub) -> None:
    with serve(bot_dir, twilio) as client:
        response = post(client, ANN, "how long do I have to return boots?")
        [sent] = twilio.wait(1)
        bot = client.app.state.bot  # type: ignore[attr-defined]
        [turn] = client.portal.call(bot.conversation, f"whatsapp:{ANN}")  # type: ignore[union-attr]
    assert turn.user_name == "Ann"  # ProfileName, kept with the turn
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response />")  # twilio's MessagingResponse
    assert sent["To"] == f"whatsapp:{ANN}" and sent["From"] == SENDER
    assert "60 days" in sent["Body"]
    assert sent["StatusCallback"] == f"{PUBLIC}/whatsapp/status"


def test_the_same_message_sid_twice_gets_one_reply(bot_dir: Path, twilio: TwilioStub) -> None:
    with serve(bot_dir, twilio) as client:
        first = post(client, ANN, "when are you open?", sid=sid_of("dup"))
        again = post(client, ANN, "when are you open?", sid=sid_of("dup"))
        post(client, BOB, "when are you open?", sid=sid_of("other"))  # a later message, to wait on
        sent = twilio.wait(2, until=lambda: any(m["To"] == f"whatsapp:{BOB}"
                                                for m in twilio.sent))
    assert first.status_code == again.status_code == 200
    assert [m["To"] for m in sent].count(f"whatsapp:{ANN}") == 1


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU="])
def test_a_bad_signature_is_403_and_nothing_is_sent(
        bot_dir: Path, twilio: TwilioStub, signature: str) -> None:
    with serve(bot_dir, twilio) as client:
        response = post(client, ANN, "when are you open?", signature=signature)
        status = post(client, ANN, path="/whatsapp/status", signature=signature,
                      MessageStatus="failed", ErrorCode="63016")
        post(client, BOB, "when are you open?", sid=sid_of("after"))
        twilio.wait(1)
    assert response.status_code == status.status_code == 403
    assert [m["To"] for m in twilio.sent] == [f"whatsapp:{BOB}"]


def test_a_shared_key_signature_is_verified_with_its_algorithm(
        bot_dir: Path, twilio: TwilioStub) -> None:
    key = "webhooks-shared-key-secret"
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,"
                                                      "algorithm=HMAC_SHA256"}

    def signed(number: str, label: str, secret: str) -> dict[str, Any]:
        params = {"MessageSid": sid_of(label), "From": f"whatsapp:{number}", "Body": "hours?"}
        signature = RequestValidator(secret).compute_signature(
            PUBLIC + "/whatsapp/webhook", params, algorithm="HMAC_SHA256")
        return {"data": params, "headers": {"X-Twilio-Signature": signature, **header}}

    keyed = settings(twilio).model_copy(update={"twilio_webhook_key": SecretStr(key)})
    with TestClient(create_app(configure(bot_dir), keyed)) as client:
        good = client.post("/whatsapp/webhook", **signed(ANN, "k1", key))
        with_token = client.post("/whatsapp/webhook", **signed(BOB, "k2", AUTH_TOKEN))
        [sent] = twilio.wait(1)
    with TestClient(create_app(configure(bot_dir), settings(twilio))) as client:
        unset = client.post("/whatsapp/webhook", **signed(BOB, "k3", key))
    assert (good.status_code, with_token.status_code, unset.status_code) == (200, 403, 403)
    assert sent["To"] == f"whatsapp:{ANN}" and len(twilio.sent) == 1


def test_the_signed_url_is_the_request_url_without_a_public_url(
        bot_dir: Path, twilio: TwilioStub) -> None:
    local = Settings(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                     twilio_whatsapp_from=SENDER, twilio_api_url=twilio.url)
    with TestClient(create_app(configure(bot_dir), local)) as client:
        public = post(client, ANN, "when are you open?", sid=sid_of("a"))
        params = {"MessageSid": sid_of("b"), "From": f"whatsapp:{ANN}",
                  "Body": "when are you open?"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            "http://testserver/whatsapp/webhook", params)
        own = client.post("/whatsapp/webhook", data=params,
                          headers={"X-Twilio-Signature": signature})
        twilio.wait(1)
    assert (public.status_code, own.status_code) == (403, 200)


def test_a_long_answer_arrives_in_ordered_parts(
        bot_dir: Path, twilio: TwilioStub, openai_stub: OpenAIStub) -> None:
    paragraphs = [f"Paragraph {p}. " + " ".join(f"Sentence {p}.{s} says a little more."
                                                 for s in range(20)) for p in range(6)]
    answer = "\n\n".join(paragraphs)[:4000].rsplit(" ", 1)[0]
    assert len(answer) > 3900
    openai_stub.reply = lambda request: answer
    with serve(bot_dir, twilio, model=stub_model(openai_stub)) as client:
        post(client, ANN, "how long do I have to return boots?")
        parts = [m["Body"] for m in twilio.wait(3)]
    assert len(parts) == 3 and all(len(p) <= MAX_PART for p in parts)
    body = "\n\n".join(parts)
    assert body.startswith(answer.split("\n\n")[0])
    assert " ".join(body.split()).startswith(" ".join(answer.split()))  # in order, all of it


def test_an_image_reaches_the_model_as_an_image_part(
        bot_dir: Path, twilio: TwilioStub, openai_stub: OpenAIStub) -> None:
    with serve(bot_dir, twilio, model=stub_model(openai_stub, images=True)) as client:
        post(client, ANN, "is this boot still under warranty?",
             **media(twilio, "ME1", "image/png", PNG))
        twilio.wait(1)
        content = openai_stub.requests[-1]["messages"][-1]["content"]
        post(client, BOB, "", sid=sid_of("2"), **media(twilio, "ME2", "image/png", PNG))
        twilio.wait(2)
    alone = openai_stub.requests[-1]["messages"][-1]["content"]  # an image without words
    assert [part["type"] for part in alone] == ["text", "image_url"]
    parts = {part["type"]: part for part in content}
    assert "is this boot still under warranty?" in parts["text"]["text"]
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert parts["image_url"]["image_url"]["url"] == data_url
    # Twilio's media URL needs the account's credentials, then redirects to its media host
    assert twilio.media_fetches[0].endswith("auth=True")
    assert twilio.media_fetches[1] == f"{twilio.port}/media-host/ME1 auth=True"  # same host


def test_an_image_without_a_model_that_sees_gets_a_polite_answer(
        bot_dir: Path, twilio: TwilioStub) -> None:
    with serve(bot_dir, twilio) as client:
        post(client, ANN, "look", **media(twilio, "ME1", "image/png", PNG))
        post(client, BOB, "", sid=sid_of("2"), **media(twilio, "ME2", "audio/ogg", b"OggS"))
        sent = twilio.wait(2)
    replies = {m["To"]: m["Body"] for m in sent}
    assert "can't read image/png files" in replies[f"whatsapp:{ANN}"]
    assert "can't read audio/ogg files" in replies[f"whatsapp:{BOB}"]


def test_media_over_the_limit_is_declined(bot_dir: Path, twilio: TwilioStub) -> None:
    big = b"%PDF-1.4\n" + b"0" * 2_000
    channels = {"whatsapp": {"max_media_bytes": 1_000}}
    with TestClient(create_app(configure(bot_dir, channels=channels),
                               settings(twilio))) as client:
        post(client, ANN, "", **media(twilio, "ME1", "application/pdf", big))
        [sent] = twilio.wait(1)
    assert sent["Body"] == "Sorry, that file is too large for me (the limit is 0.001 MB)."


def test_media_not_on_twilios_hosts_is_never_fetched(bot_dir: Path, twilio: TwilioStub) -> None:
    twilio.media["ME1"] = ("application/pdf", b"%PDF-1.4")
    elsewhere = twilio.media_url("ME1").replace("127.0.0.1", "localhost")  # another host
    with serve(bot_dir, twilio) as client:
        post(client, ANN, "", NumMedia="1", MediaUrl0=elsewhere,
             MediaContentType0="application/pdf")
        post(client, BOB, "", sid=sid_of("2"), NumMedia="1",
             MediaUrl0="http://169.254.169.254/latest/meta-data/", MediaContentType0="text/plain")
        sent = twilio.wait(2)
    assert twilio.media_fetches == []  # nothing asked for, the credentials sent nowhere
    failed = "Sorry, I couldn't open the file you sent. Please try again."
    assert [m["Body"] for m in sent] == [failed, failed]


def pdf(text: str) -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("Helvetica", size=12)
    document.multi_cell(0, 8, text)
    return bytes(document.output())


def test_a_pdf_answers_in_its_conversation_and_no_other(
        bot_dir: Path, twilio: TwilioStub, openai_stub: OpenAIStub) -> None:
    def reply(request: dict[str, Any]) -> str:
        sources = quoted_blocks(request["messages"][-1]["content"]).get("SOURCES", "")
        return ("Your voucher code is KESTREL-4471 [1]." if "KESTREL-4471" in sources
                else "I don't know your voucher code.")

    openai_stub.reply = reply
    invoice = pdf("Invoice 2291. Your gift voucher code is KESTREL-4471, valid for a year.")
    with serve(bot_dir, twilio, model=stub_model(openai_stub)) as client:
        post(client, ANN, "", sid=sid_of("1"),
             **media(twilio, "ME1", "application/pdf", invoice))
        twilio.wait(1)
        post(client, ANN, "what is my gift voucher code?", sid=sid_of("2"))
        twilio.wait(2)
        post(client, BOB, "what is my gift voucher code?", sid=sid_of("3"))
        sent = twilio.wait(3)
        bot = client.app.state.bot  # type: ignore[attr-defined]
        client.portal.call(bot.forget, f"whatsapp:{ANN}")  # type: ignore[union-attr]
        kept = client.portal.call(bot.store.get, f"documents:whatsapp:{ANN}")  # type: ignore[union-attr]
    assert sent[0]["Body"] == "I've read document.pdf. What would you like to know?"
    assert "KESTREL-4471" in sent[1]["Body"] and sent[1]["To"] == f"whatsapp:{ANN}"
    assert "KESTREL-4471" not in sent[2]["Body"] and sent[2]["To"] == f"whatsapp:{BOB}"
    assert kept is None  # forgetting the conversation erases its documents


def test_a_send_outside_the_24_hour_window_uses_the_template(
        bot_dir: Path, twilio: TwilioStub) -> None:
    with serve(bot_dir, twilio) as client:
        whatsapp: WhatsApp = client.app.state.whatsapp  # type: ignore[attr-defined]
        post(client, ANN, "when are you open?")
        twilio.wait(1)

        async def late_and_notified() -> None:
            await whatsapp.window.heard(f"whatsapp:{ANN}", at=time.time() - 25 * 3600)
            await whatsapp.send(ANN, OutboundMessage(conversation_id=ANN, text="**Ready**."))
            await whatsapp.notify(BOB, "order_shipped", {"2": "10045"})

        client.portal.call(late_and_notified)  # type: ignore[union-attr]
        sent = twilio.wait(3)
    late, shipped = sent[1], sent[2]
    assert late["ContentSid"] == LATE and "Body" not in late
    assert json.loads(late["ContentVariables"]) == {"1": "*Ready*."}
    assert shipped["ContentSid"] == SHIPPED and shipped["To"] == f"whatsapp:{BOB}"
    assert json.loads(shipped["ContentVariables"]) == {"1": "Acme", "2": "10045"}


def test_a_late_answer_is_one_short_line(bot_dir: Path, twilio: TwilioStub) -> None:
    answer = "\n\n".join(f"Paragraph {p}.\n" + " ".join(f"Sentence {p}.{s} says more."
                                                         for s in range(30)) for p in range(5))
    with serve(bot_dir, twilio) as client:
        whatsapp: WhatsApp = client.app.state.whatsapp  # type: ignore[attr-defined]

        async def late() -> None:
            await whatsapp.window.heard(f"whatsapp:{ANN}", at=time.time() - 25 * 3600)
            await whatsapp.send(ANN, OutboundMessage(conversation_id=ANN, text=answer))

        client.portal.call(late)  # type: ignore[union-attr]
        [sent] = twilio.wait(1)
    variable = json.loads(sent["ContentVariables"])["1"]
    assert len(answer) > 2_000 and 0 < len(variable) <= 1_000 and "\n" not in variable
    assert variable.startswith("Paragraph 0. Sentence 0.0 says more.")
    assert variable.endswith("says more.")  # cut between sentences


def test_without_a_late_answer_template_start_warns_and_nothing_is_sent(
        bot_dir: Path, twilio: TwilioStub, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(configure(bot_dir), settings(twilio))
    with caplog.at_level(logging.INFO, "parley.whatsapp"), TestClient(app) as client:
        whatsapp: WhatsApp = client.app.state.whatsapp  # type: ignore[attr-defined]
        started = [r.getMessage() for r in caplog.records]

        async def late() -> None:
            await whatsapp.window.heard(f"whatsapp:{ANN}", at=time.time() - 25 * 3600)
            await whatsapp.send(ANN, OutboundMessage(conversation_id=ANN, text="Ready."))

        client.portal.call(late)  # type: ignore[union-attr]
    assert any("has no 'late_answer'" in m for m in started)
    assert any(f"{PUBLIC}/whatsapp/webhook" in m and f"{PUBLIC}/whatsapp/status" in m
               for m in started)  # what to give Twilio
    assert twilio.sent == []
    assert any("not sent" in r.getMessage() for r in caplog.records)


def test_a_store_failure_gets_the_unavailable_answer(bot_dir: Path, twilio: TwilioStub) -> None:
    store = FailingWrites()
    with serve(bot_dir, twilio, store=store) as client:
        store.down = True
        post(client, ANN, "when are you open?")
        [sent] = twilio.wait(1)
    assert sent["Body"] == localize(BotTexts().unavailable)


def test_quick_replies_are_numbered_and_a_number_picks_one(
        bot_dir: Path, twilio: TwilioStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_API", "http://127.0.0.1:9")
    size = {"name": "size", "type": "choice", "choices": ["Small", "Medium", "Large"],
            "question": "Which size?"}
    skills = [{"name": "exchange", "kind": "form", "description": "Exchange for another size",
               "examples": ["I want another size", "exchange my jacket for a bigger size"],
               "tool": "order_lookup", "reply": "Done: {{ size }}.",
               "slots": [size, {"name": "number", "pattern": r"\d{5}",
                                "question": "Which order number?"}]}]
    tools = [{"name": "order_lookup", "description": "An order by number",
              "url": "${ORDERS_API}/orders/{number}", "args": {"number": {}}}]
    with serve(bot_dir, twilio, skills=skills, tools=tools) as client:
        post(client, ANN, "I want another size", sid=sid_of("1"))
        twilio.wait(1)
        post(client, ANN, "2", sid=sid_of("2"))
        sent = twilio.wait(2)
    assert sent[0]["Body"] == "Which size?\n\n1. Small\n2. Medium\n3. Large"
    assert sent[1]["Body"] == "Which order number?"  # "2" was taken as Medium


def test_delivery_status_is_recorded_and_a_failure_logged(
        bot_dir: Path, twilio: TwilioStub, caplog: pytest.LogCaptureFixture) -> None:
    with serve(bot_dir, twilio) as client, caplog.at_level(logging.WARNING, "parley.whatsapp"):
        ok = post(client, ANN, path="/whatsapp/status", sid=sid_of("ok"), MessageStatus="delivered")
        failed = post(client, ANN, path="/whatsapp/status", sid=sid_of("bad"),
                      MessageStatus="undelivered", ErrorCode="63016")
        store = client.app.state.bot.store  # type: ignore[attr-defined]
        recorded = client.portal.call(store.get, f"twilio:status:{sid_of('bad')}")  # type: ignore[union-attr]
    assert ok.status_code == failed.status_code == 204
    assert json.loads(recorded) == {"status": "undelivered", "error_code": "63016"}
    assert any(sid_of("bad") in r.getMessage() and "63016" in r.getMessage()
               for r in caplog.records)


def test_a_refused_send_is_logged_with_twilios_error_code(
        bot_dir: Path, twilio: TwilioStub, caplog: pytest.LogCaptureFixture) -> None:
    twilio.refused[f"whatsapp:{ANN}"] = 63016
    with serve(bot_dir, twilio) as client, caplog.at_level(logging.ERROR, "parley.whatsapp"):
        response = post(client, ANN, "when are you open?", sid=sid_of("refused"))
        post(client, BOB, "when are you open?", sid=sid_of("next"))
        twilio.wait(1)
    assert response.status_code == 200
    assert [m["To"] for m in twilio.sent] == [f"whatsapp:{BOB}"]
    [record] = [r for r in caplog.records if sid_of("refused") in r.getMessage()]
    assert "Twilio error 63016" in record.getMessage()


@pytest.mark.parametrize("fields", [
    {"From": ""},
    {"From": "+15551230001"},  # an SMS sender, not WhatsApp
    {"From": "whatsapp:+1555\x00123"},
    {"From": "whatsapp:+1 555 123 0001"},
    {"From": "whatsapp:+1234"},
    {"MessageSid": ""},
    {"MessageSid": "SM" + "a" * 5_000},
    {"MessageSid": "XX" + "a" * 32},
    {"NumMedia": "many"},
    {"NumMedia": "99999999999999999999"},  # once a loop that never ended
    {"NumMedia": "11"},
    {"NumMedia": "-1"},
    {"NumMedia": " 2"},
])
def test_a_signed_request_that_is_no_message_is_422_without_echo(
        bot_dir: Path, twilio: TwilioStub, fields: dict[str, str]) -> None:
    params = {"MessageSid": sid_of("bad"), "From": f"whatsapp:{ANN}", "Body": "hi", **fields}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/whatsapp/webhook",
                                                               params)
    with serve(bot_dir, twilio) as client:
        bad = client.post("/whatsapp/webhook", data=params,
                          headers={"X-Twilio-Signature": signature})
        post(client, ANN, "hi", sid=sid_of("bad"))  # the bad one was not claimed
        [sent] = twilio.wait(1)
        health = client.get("/healthz")
    assert bad.status_code == 422 and health.status_code == 200
    assert not [v for v in fields.values() if len(v) > 3 and v in bad.text]  # no echo
    assert sent["To"] == f"whatsapp:{ANN}"


def test_a_status_callback_with_no_message_sid_is_422(bot_dir: Path, twilio: TwilioStub) -> None:
    with serve(bot_dir, twilio) as client:
        response = post(client, ANN, path="/whatsapp/status", sid="SM" + "1" * 5_000,
                        MessageStatus="failed")
    assert response.status_code == 422 and "1111111111" not in response.text


def test_the_channel_is_off_without_the_auth_token(bot_dir: Path) -> None:
    with TestClient(create_app(configure(bot_dir), Settings())) as client:
        assert client.post("/whatsapp/webhook", data={}).status_code == 404


def test_flows_yaml_may_name_other_variables(bot_dir: Path, twilio: TwilioStub,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_TWILIO_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("ACME_TWILIO_SID", ACCOUNT_SID)
    monkeypatch.setenv("ACME_WHATSAPP", "+14155238886")
    channels = {"whatsapp": {"auth_token_env": "ACME_TWILIO_TOKEN",
                             "account_sid_env": "ACME_TWILIO_SID", "from_env": "ACME_WHATSAPP",
                             "public_url": PUBLIC}}
    app = create_app(configure(bot_dir, channels=channels),
                     Settings(twilio_api_url=twilio.url))
    with TestClient(app) as client:
        assert post(client, ANN, "when are you open?").status_code == 200
        [sent] = twilio.wait(1)
    assert sent["From"] == SENDER


def test_other_variables_may_come_from_dot_env_and_the_token_is_hidden(
        bot_dir: Path, twilio: TwilioStub, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "acme-dotenv-token-4471"
    (bot_dir / ".env").write_text(f"ACME_TWILIO_TOKEN={token}\nACME_TWILIO_SID={ACCOUNT_SID}\n"
                                  "ACME_WHATSAPP=+14155238886\n")
    monkeypatch.chdir(bot_dir)
    channels = {"whatsapp": {"auth_token_env": "ACME_TWILIO_TOKEN",
                             "account_sid_env": "ACME_TWILIO_SID", "from_env": "ACME_WHATSAPP"}}
    account = twilio_account(configure(bot_dir, channels=channels).channels.whatsapp,
                             Settings(twilio_api_url=twilio.url))
    assert account is not None and account.auth_token == token
    assert account.sender == SENDER
    assert token not in repr(account)
    assert token not in safelog.scrub(f"token={token}")  # hidden in logs, named as it is


def test_missing_sender_is_a_clear_error(bot_dir: Path) -> None:
    with pytest.raises(ValueError, match="TWILIO_WHATSAPP_FROM is not"):
        create_app(configure(bot_dir), Settings(twilio_auth_token=AUTH_TOKEN,
                                                twilio_account_sid=ACCOUNT_SID))




def test_parley_serve_answers_twilio_before_the_model_does(
        bot_dir: Path, twilio: TwilioStub, openai_stub: OpenAIStub) -> None:
    gate = threading.Event()
    openai_stub.reply = lambda request: "Held answer." if gate.wait(30) else "too late"
    configure(bot_dir, model=stub_model(openai_stub, timeout_s=60))
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_WHATSAPP_FROM": SENDER, "PUBLIC_URL": PUBLIC, "TWILIO_API_URL": twilio.url}
    with serving(bot_dir, env=env) as base:
        params = {"MessageSid": sid_of("held"), "From": f"whatsapp:{ANN}",
                  "Body": "how long do I have to return boots?"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            PUBLIC + "/whatsapp/webhook", params)
        responses = [httpx.post(f"{base}/whatsapp/webhook", data=params, timeout=10,
                                headers={"X-Twilio-Signature": signature}) for _ in range(2)]
        nothing_yet = list(twilio.sent)
        gate.set()
        [sent] = twilio.wait(1)
        time.sleep(0.5)  # not a pass condition: room for a wrong second reply to show up
    assert [r.status_code for r in responses] == [200, 200] and nothing_yet == []
    assert sent["Body"].startswith("Held answer.") and len(twilio.sent) == 1
    log = (bot_dir / "serve.log").read_text()
    assert f"{PUBLIC}/whatsapp/webhook" in log  # the start says what to give Twilio
    assert "parley.turn" in log and ANN not in log  # the conversation key's number masked
    assert "Twilio API Request" not in log  # twilio's client is quiet at INFO


def test_one_numbers_messages_are_answered_in_order(
        bot_dir: Path, twilio: TwilioStub, openai_stub: OpenAIStub) -> None:
    """A slow document, then a quick question about it: the question waits for the document
    (its download, its turn and its reply), so it is answered second, and from it."""
    openai_stub.reply = lambda request: (
        "Your voucher code is KESTREL-4471 [1]."
        if "KESTREL-4471" in quoted_blocks(request["messages"][-1]["content"]).get("SOURCES", "")
        else "I don't know your voucher code.")
    twilio.media["ME1"] = ("application/pdf", pdf("Your gift voucher code is KESTREL-4471."))
    twilio.held.add("ME1")
    configure(bot_dir, model=stub_model(openai_stub))
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_WHATSAPP_FROM": SENDER, "PUBLIC_URL": PUBLIC, "TWILIO_API_URL": twilio.url}
    with serving(bot_dir, env=env) as base:
        for params in ({"MessageSid": sid_of("doc"), "From": f"whatsapp:{ANN}", "Body": "",
                        **media(twilio, "ME1", "application/pdf", twilio.media["ME1"][1])},
                       {"MessageSid": sid_of("question"), "From": f"whatsapp:{ANN}",
                        "Body": "what is my gift voucher code?"}):
            signature = RequestValidator(AUTH_TOKEN).compute_signature(
                PUBLIC + "/whatsapp/webhook", params)
            assert httpx.post(f"{base}/whatsapp/webhook", data=params, timeout=10,
                              headers={"X-Twilio-Signature": signature}).status_code == 200
        time.sleep(1.0)  # not a pass condition: room for the question to overtake
        twilio.gate.set()
        sent = twilio.wait(2)
    assert sent[0]["Body"] == "I've read document.pdf. What would you like to know?"
    assert "KESTREL-4471" in sent[1]["Body"]
