"""deploy/: Docker cannot run here, so the commands the Dockerfile, the compose file and the
systemd unit run are run as they are written, on this machine, in a bot folder. Installing the
wheel (their `pip install`) is .ci/side_by_side.sh's check."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import httpx
from ruamel.yaml import YAML

from tests.utils.cli import PARLEY, free_port, running

DEPLOY = Path(__file__).parents[1] / "deploy"
BIN = str(Path(PARLEY).parent)


def dockerfile() -> tuple[list[str], list[str]]:
    """The Dockerfile's `RUN parley ...` lines and its CMD."""
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    runs = [line.removeprefix("RUN ") for line in lines if line.startswith("RUN parley")]
    [cmd] = [json.loads(line.removeprefix("CMD ")) for line in lines if line.startswith("CMD ")]
    return runs, cmd


def dockerfile_env() -> dict[str, str]:
    """The Dockerfile's `ENV NAME=value` lines: the environment its CMD runs in."""
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    return dict(line.removeprefix("ENV ").split("=", 1) for line in lines
                if line.startswith("ENV "))


SECRETS = {"PARLEY_SESSION_SECRET": "deploy-test-session-secret"}  # what the deployer passes


def unit() -> dict[str, list[str]]:
    """The systemd unit's [Service] settings; a key may repeat (ExecStartPre, Environment)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in (DEPLOY / "parley.service").read_text().splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def here(argv: list[str], port: int) -> list[str]:
    """`argv` on this machine: the test's free port, and one process. `--workers N` runs N
    such processes (tests/channels/test_metrics.py runs two sharing a metrics directory)."""
    argv = [*argv]
    argv[argv.index("--port") + 1] = str(port)
    if "--workers" in argv:
        del argv[argv.index("--workers"):argv.index("--workers") + 2]
    return argv


def served_turn(base: str, token: str | None = None) -> str:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    reply = httpx.post(f"{base}/api/chat", json={"conversation_id": "d1",
                                                 "text": "how much is express shipping?"},
                       headers=auth)
    assert reply.status_code == 200 and "$14.95" in reply.json()["reply"]
    return httpx.get(f"{base}/metrics", headers=auth).text


def test_the_dockerfile_commands_build_and_serve_the_bot(bot_dir: Path) -> None:
    runs, cmd = dockerfile()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    for run in runs:  # the build steps, in the folder COPY put in the image
        result = subprocess.run(["sh", "-c", run], cwd=bot_dir, env=env, capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stderr
    assert (bot_dir / ".parley" / "knowledge").is_dir()  # the index ships in the image
    port = free_port()
    assert dockerfile_env()["PARLEY_ENV"] == "production"
    env |= dockerfile_env() | SECRETS
    env["PARLEY_API_TOKEN"] = "deploy-test-token"  # in production the JSON API needs one
    with running(here(cmd, port), bot_dir, port, env=env, log=bot_dir / "serve.log") as base:
        assert httpx.post(f"{base}/api/chat", json={}).status_code == 401
        assert 'parley_turns_total{channel="api",skill="shipping"} 1.0' in served_turn(
            base, env["PARLEY_API_TOKEN"])
    records = [json.loads(line) for line in (bot_dir / "serve.log").read_text().splitlines()]
    assert any(r["logger"] == "parley.turn" for r in records)  # no TTY: JSON lines


def test_compose_runs_the_image_with_two_workers_and_redis() -> None:
    compose = YAML(typ="safe").load(DEPLOY / "compose.yaml")
    parley, redis = compose["services"]["parley"], compose["services"]["redis"]
    assert (DEPLOY / parley["build"]["context"] / parley["build"]["dockerfile"]).is_file()
    assert parley["command"] == [*dockerfile()[1], "--workers", "2"]
    assert parley["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert parley["environment"]["PARLEY_ENV"] == "production"
    assert "PARLEY_SESSION_SECRET" in parley["environment"]
    assert parley["depends_on"] == ["redis"] and redis["image"].startswith("redis:")


def test_the_systemd_unit_commands_check_ingest_and_serve(bot_dir: Path, tmp_path: Path) -> None:
    service = unit()
    env = dict(value.split("=", 1) for value in service["Environment"])
    assert env["PROMETHEUS_MULTIPROC_DIR"] == "/run/" + service["RuntimeDirectory"][0]
    assert env["PARLEY_ENV"] == "production"  # behind the proxy: no token, no JSON API
    runtime = tmp_path / "run"  # what RuntimeDirectory= makes: empty at each start
    runtime.mkdir()
    token = "deploy-test-token"
    served = {"PARLEY_ENV": env["PARLEY_ENV"], "PROMETHEUS_MULTIPROC_DIR": str(runtime),
              **SECRETS}  # secrets.env's part

    def local(command: str) -> list[str]:
        argv = shlex.split(command)
        assert argv[0] == "/opt/parley/bin/parley"
        return [PARLEY, *argv[1:]]

    for command in service["ExecStartPre"]:
        result = subprocess.run(local(command), cwd=bot_dir, capture_output=True, text=True,
                                env={**os.environ, **served}, check=False)
        assert result.returncode == 0, result.stderr
    port = free_port()
    [start] = service["ExecStart"]
    with running(here(local(start), port), bot_dir, port, log=tmp_path / "serve.log",
                 env=served) as base:
        assert httpx.post(f"{base}/api/chat", json={}).status_code == 404  # off: no token
    port = free_port()
    with running(here(local(start), port), bot_dir, port, log=tmp_path / "serve.log",
                 env={**served, "PARLEY_API_TOKEN": token}) as base:
        assert httpx.post(f"{base}/api/chat", json={}).status_code == 401
        assert 'parley_turns_total{channel="api",skill="shipping"} 1.0' in served_turn(
            base, token)
    assert list(runtime.glob("*.db"))  # the metrics went where the unit said
