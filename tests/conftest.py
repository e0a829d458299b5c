"""Shared fixtures: a fresh copy of the example bot per test, a stand-in model server, a
web site on 127.0.0.1, and a Redis-protocol server and cluster for the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from ruamel.yaml import YAML

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.scaffold import init_bot
from tests.utils import site as web_site
from tests.utils.api_stub import ApiStub
from tests.utils.api_stub import serving as serving_api
from tests.utils.openai_stub import OpenAIStub, serving
from tests.utils.redis_server import redis_cluster, redis_server


@pytest.fixture
def bot_dir(tmp_path: Path) -> Path:
    """A bot folder made by `parley init --example`: the Acme Outdoor shop."""
    target = tmp_path / "bot"
    init_bot(target, example=True)
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


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real server for the session; each test keeps apart by its own key prefix."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A three-node Redis Cluster for the session (any node's URL reaches all of it)."""
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as nodes:
        yield nodes[0].url


@pytest.fixture
def redis_prefix() -> str:
    return f"t{uuid4().hex[:8]}"
