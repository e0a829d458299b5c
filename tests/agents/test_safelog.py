"""Log records cannot pose as two, and carry no secret and, once configured, no personal data."""

from __future__ import annotations

import logging

import pytest

from parley_bot.agents import safelog
from parley_bot.agents.privacy import Redactor
from tests.utils.logs import safe_log

log = logging.getLogger("parley.test")


def test_ids_and_text_are_escaped_onto_one_line() -> None:
    conversation = "web:abc\nINFO parley.bot: turn (conversation=admin)"
    with safe_log() as out:
        log.info("turn (conversation=%s event=%s): %s", conversation, "ev\r1",
                 "\x1b[31mred\x1b[0m \u202eevil\u202c\u2028next")
    lines = out.getvalue().splitlines()
    assert lines == [
        "INFO parley.test: turn (conversation=web:abc\\nINFO parley.bot: turn "
        "(conversation=admin) event=ev\\r1): \\x1b[31mred\\x1b[0m \\u202eevil\\u202c\\u2028next"
    ]


def test_a_traceback_stays_under_its_record() -> None:
    with safe_log() as out:
        try:
            raise ValueError("bad input\nERROR parley.bot: forged record")
        except ValueError:
            log.exception("turn failed (conversation=%s)", "c1")
    first, *rest = out.getvalue().rstrip("\n").split("\n")
    assert first == "ERROR parley.test: turn failed (conversation=c1)"
    assert rest and all(line.startswith("  ") for line in rest), rest
    assert "  ERROR parley.bot: forged record" in rest


def test_secrets_are_never_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-live-4f8a9b2c")
    monkeypatch.setenv("DEBUG_MODE", "verbose-logging")  # not a secret's name: shown
    safelog.hide("signing-secret-7d3e")
    with safe_log() as out:
        log.warning("key %s, secret %s, mode %s", "acme-live-4f8a9b2c", "signing-secret-7d3e",
                    "verbose-logging")
        log.warning("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig and "
                    "sk-proj-abcdefghijklmnopqrstuvwx and xoxb-1234567890-abcdefghij")
    assert out.getvalue().splitlines() == [
        "WARNING parley.test: key <SECRET>, secret <SECRET>, mode verbose-logging",
        "WARNING parley.test: Authorization: <SECRET> and <SECRET> and <SECRET>",
    ]


def test_personal_data_is_redacted_once_configured() -> None:
    with safe_log() as out:
        log.info("from %s", "ann@example.com")
        safelog.redact_with(Redactor(["email"]))
        log.info("from %s", "ann@example.com")
    assert out.getvalue().splitlines() == ["INFO parley.test: from ann@example.com",
                                           "INFO parley.test: from <EMAIL>"]


def test_a_record_with_bad_arguments_is_kept_not_dropped() -> None:
    record = logging.LogRecord("parley.test", logging.INFO, __file__, 1, "two %s %s\n",
                               ("one",), None)
    assert safelog.SafeLogFilter().filter(record)
    assert record.getMessage() == "'two %s %s\\n' % ('one',)"


def test_install_adds_the_filter_once() -> None:
    handler = logging.StreamHandler()
    assert safelog.install(handler) is safelog.install(handler)
    assert len(handler.filters) == 1
