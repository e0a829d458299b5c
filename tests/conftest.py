"""Shared fixtures: a fresh copy of the example bot per test, a stand-in model server, and a
web site on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.scaffold import init_bot
from tests.utils import site as web_site
from tests.utils.api_stub import ApiStub
from tests.utils.api_stub import serving as serving_api
from tests.utils.openai_stub import OpenAIStub, serving


@pytest.fixture
def bot_dir(tmp_path: Path) -> Path:
    """A bot folder made by `parley init` from the example bot."""
    target = tmp_path / "bot"
    init_bot(target)
    return target


def configure(bot_dir: Path, **changes: Any) -> FlowsConfig:
    """Rewrite top-level keys of the bot's flows.yaml and load it."""
    yaml = YAML()
    path = bot_dir / "flows.yaml"
    data = yaml.load(path)
    data.update(changes)
    yaml.dump(data, path)
    return load_flows(path)


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with serving(OpenAIStub()) as stub:
        yield stub


def stub_model(stub: OpenAIStub, **extra: Any) -> dict[str, Any]:
    """flows.yaml `model:` entry pointing the real OpenAI client at the stand-in server."""
    return {"name": "openai:stub-model", "base_url": stub.base_url, "api_key_env": "STUB_KEY",
            **extra}


@pytest.fixture(autouse=True)
def _stub_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_KEY", "sk-test")


@pytest.fixture
def api_stub() -> Iterator[ApiStub]:
    with serving_api(ApiStub()) as stub:
        yield stub


@pytest.fixture
def site(tmp_path: Path) -> Iterator[web_site.Site]:
    with web_site.serving(tmp_path / "www") as running:
        yield running
