"""Personal data: found by its libraries, masked or hashed, kept from models, logs, transcripts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import PrivacyConfig
from parley_bot.agents.errors import PrivacyError
from parley_bot.agents.privacy import Redactor
from parley_bot.channels.messages import Turn
from tests.conftest import configure, stub_model
from tests.utils.logs import safe_log
from tests.utils.messages import inbound
from tests.utils.openai_stub import OpenAIStub, said

EVERY_KIND = Redactor(["email", "phone", "card", "iban", "ip"], phone_regions=["US", "GB"])
# About the documents, so the turn reaches the model (an unrelated one is out of scope).
TYPED = ("How much is express shipping? I'm jane.doe@example.com, call +1 415 555 2671, "
         "card 4111 1111 1111 1111")
MASKED = "How much is express shipping? I'm <EMAIL>, call <PHONE>, card <CARD>"


@pytest.mark.parametrize(("text", "redacted"), [
    ("mail Jane.Doe+shop@mail.example.co.uk now", "mail <EMAIL> now"),
    ("(415) 555-2671, 020 7946 0958 or +48 601 234 567", "<PHONE>, <PHONE> or <PHONE>"),
    ("card 4111-1111-1111-1111, not 4111 1111 1111 1112", "card <CARD>, not 4111 1111 1111 1112"),
    ("DE89 3704 0044 0532 0130 00 hi", "<IBAN> hi"),
    ("GB82WEST12345698765432; bad DE89 3704 0044 0532 0130 01",
     "<IBAN>; bad DE89 3704 0044 0532 0130 01"),
    ("from 192.168.1.20 or 2001:db8::1 at 12:30:45 (std::vector, 999.1.1.1)",
     "from <IP> or <IP> at 12:30:45 (std::vector, 999.1.1.1)"),
    ("turn conversation=whatsapp:+15551230001 (whatsapp:+14155238886)",  # keys, even 555
     "turn conversation=whatsapp:<PHONE> (whatsapp:<PHONE>)"),
    ("order 12345678 of 2024-05-01, total 1234.56, parcel 1Z999AA10123456784",
     "order 12345678 of 2024-05-01, total 1234.56, parcel 1Z999AA10123456784"),
])
def test_each_kind_is_found_and_lookalikes_are_not(text: str, redacted: str) -> None:
    assert EVERY_KIND(text) == redacted
    assert EVERY_KIND(redacted) == redacted  # redacting twice changes nothing


def test_only_the_configured_kinds_and_regions_are_redacted() -> None:
    text = "jane@example.com, 020 7946 0958, +44 20 7946 0958"
    assert Redactor(["phone"])(text) == "jane@example.com, 020 7946 0958, <PHONE>"
    assert Redactor(["phone"], phone_regions=["GB"])(text) == "jane@example.com, <PHONE>, <PHONE>"


def test_hash_tokens_are_stable_per_value_and_depend_on_the_key() -> None:
    one = Redactor(["email", "phone"], mode="hash", key=b"first")
    text = "Ann@Example.com, ann@example.com, +1 415 555 2671, +1 (415) 555-2671, b@example.com"
    tokens = one(text).split(", ")
    assert tokens[0] == tokens[1] != tokens[4] and tokens[2] == tokens[3]
    assert tokens[0].startswith("<EMAIL:") and tokens[2].startswith("<PHONE:")
    assert Redactor(["email"], mode="hash", key=b"other")("ann@example.com") != tokens[0]


def test_from_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Redactor.from_config(PrivacyConfig(redact=[])) is None
    monkeypatch.delenv("PARLEY_REDACTION_KEY", raising=False)
    with pytest.raises(PrivacyError, match=r"PARLEY_REDACTION_KEY .* is not set"):
        Redactor.from_config(PrivacyConfig(mode="hash"))
    monkeypatch.setenv("PARLEY_REDACTION_KEY", "a-long-enough-key")
    redactor = Redactor.from_config(PrivacyConfig(mode="hash"))
    assert redactor is not None and redactor("a@example.com").startswith("<EMAIL:")


def test_a_turn_is_redacted_for_export() -> None:
    turn = Turn(channel="whatsapp", conversation_id="+14155552671", user_text=TYPED,
                reply="We'll write to jane.doe@example.com.", at=datetime.now(UTC))
    exported = EVERY_KIND.turn(turn)
    assert (exported.user_text, exported.reply) == (MASKED, "We'll write to <EMAIL>.")
    assert exported.conversation_id == turn.conversation_id  # a key, not content


async def test_personal_data_reaches_the_model_and_the_log_masked(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    config = configure(bot_dir, model=stub_model(openai_stub))
    with safe_log() as log:
        async with Bot.open(config) as bot:
            await bot.handle(inbound(TYPED))
            await bot.handle(inbound("and my IBAN is DE89 3704 0044 0532 0130 00 for "
                                     "express shipping refunds"))
            turns = await bot.conversation("api:c1")
            state = await bot._graph.aget_state({"configurable": {"thread_id": "api:c1"}})

    assert openai_stub.user_texts(openai_stub.requests[0]) == [MASKED]
    iban = "and my IBAN is <IBAN> for express shipping refunds"
    assert openai_stub.user_texts(openai_stub.requests[1]) == [MASKED, iban]
    assert MASKED in log.getvalue() and iban in log.getvalue()
    for secret in ("jane.doe@example.com", "555 2671", "4111", "DE89"):
        assert secret not in log.getvalue()
        assert all(secret not in t.user_text for t in turns)  # the transcript is redacted
    assert state.values["history"][0]["user"] == TYPED  # the bot's own state keeps the text


async def test_with_redaction_off_or_a_private_model_the_text_arrives_as_typed(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    configure(bot_dir, privacy={"redact": [], "transcript": "original"})
    async with Bot.open(configure(bot_dir, model=stub_model(openai_stub))) as bot:
        await bot.handle(inbound(TYPED))
        turns = await bot.conversation("api:c1")
    assert openai_stub.user_texts(openai_stub.requests[-1]) == [TYPED]
    assert turns[0].user_text == TYPED

    configure(bot_dir, privacy={})  # redaction back on, for every model but a private one
    config = configure(bot_dir, model=stub_model(openai_stub, private=True))
    async with Bot.open(config) as bot:
        await bot.handle(inbound(TYPED, "c2"))
        turns = await bot.conversation("api:c2")
    assert said(openai_stub.requests[-1]["messages"][-1]["content"]) == TYPED
    assert turns[0].user_text == MASKED  # the transcript still redacts by default
