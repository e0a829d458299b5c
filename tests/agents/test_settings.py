"""Settings.named: a setting flows.yaml may move to a variable of another name."""

from pathlib import Path

import pytest

from parley_bot.agents.settings import Settings


def test_the_own_name_reads_the_validated_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-own")
    assert Settings().named("SLACK_BOT_TOKEN", "slack_bot_token") == "xoxb-own"
    assert Settings(twilio_account_sid="AC1").named("TWILIO_ACCOUNT_SID",
                                                    "twilio_account_sid") == "AC1"


def test_another_name_is_read_from_the_environment_then_dot_env(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACME_TOKEN", raising=False)
    settings = Settings(slack_bot_token="xoxb-default")
    assert settings.named("ACME_TOKEN", "slack_bot_token") is None
    (tmp_path / ".env").write_text("ACME_TOKEN=xoxb-from-file\n")
    assert settings.named("ACME_TOKEN", "slack_bot_token") == "xoxb-from-file"
    monkeypatch.setenv("ACME_TOKEN", "xoxb-from-env")
    assert settings.named("ACME_TOKEN", "slack_bot_token") == "xoxb-from-env"


def test_empty_is_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ACME_SID=\n")
    monkeypatch.delenv("ACME_SID", raising=False)
    assert Settings().named("ACME_SID", "twilio_account_sid") is None
