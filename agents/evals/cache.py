"""Answers of earlier eval runs, so a re-run asks the models only what changed.

An entry is one case's replies from one model. Its key holds everything an answer depends
on: the model's settings, what the user types and the canned tool results, parley's version
with a hash of its own source files (a code change is never hidden), the documents, and
flows.yaml apart from its skills and its `eval:` section. Skills are checked per entry: it
records the hash of each skill the case expects or was answered by, plus what every skill
gives the router (names, descriptions, examples), so editing one skill's instructions
re-asks only the cases that skill answers. Checks are not part of the key: they are scored
again on every run from the stored replies.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from parley_bot.agents.config import FlowsConfig, ModelSpec
from parley_bot.agents.evals.cases import Case
from parley_bot.agents.evals.checks import TurnReply

CACHE_DIR = ".parley/eval-cache"


class Entry(BaseModel):
    """One case's replies from one model, with what they depended on."""

    skills: dict[str, str]
    replies: list[TurnReply]
    verdicts: dict[str, str] = {}
    """Judge verdicts by `verdict_key`."""


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@cache
def parley_fingerprint() -> str:
    """parley's version and a hash of every one of its Python source files."""
    from parley_bot import __version__

    package = Path(__file__).resolve().parents[2]  # agents/evals/cache.py → the checkout
    names = ("agents", "channels", "tools", "knowledge")
    files = sorted(f for name in names for f in (package / name).resolve().rglob("*.py"))
    sha = hashlib.sha256(__version__.encode())
    for file in files:
        sha.update(file.name.encode() + file.read_bytes())
    return sha.hexdigest()


def documents_fingerprint(config: FlowsConfig) -> str:
    """A hash of every file under the knowledge sources (and the URLs of web sources)."""
    sha = hashlib.sha256()
    for source in config.knowledge.sources:
        sha.update((source.url or "").encode())
        if source.path is None:
            continue
        root = config.path(source.path)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            sha.update(str(file.relative_to(root.parent)).encode() + file.read_bytes())
    return sha.hexdigest()


def skill_hashes(config: FlowsConfig) -> dict[str, str]:
    """Each skill's definition, hashed."""
    return {skill.name: digest(skill.model_dump(mode="json")) for skill in config.skills}


class EvalCache:
    """The cache folder of one bot and one run's fixed inputs."""

    def __init__(self, config: FlowsConfig) -> None:
        self.folder = config.path(CACHE_DIR)
        self.skills = skill_hashes(config)
        settings = config.model_dump(mode="json", exclude={"skills", "eval"})
        routing = [(s.name, s.description, s.examples) for s in config.skills]
        self._base = digest([parley_fingerprint(), documents_fingerprint(config), settings,
                             routing])

    def key(self, spec: ModelSpec, case: Case) -> str:
        asked = [turn.user for turn in case.case.turns]
        return digest([self._base, spec.model_dump(mode="json"), asked, case.case.tool_results])

    def get(self, key: str) -> Entry | None:
        """The stored entry, unless a skill it depended on has changed since."""
        try:
            entry = Entry.model_validate_json((self.folder / f"{key}.json").read_bytes())
        except (OSError, ValidationError):
            return None
        fresh = all(self.skills.get(name) == value for name, value in entry.skills.items())
        return entry if fresh else None

    def put(self, key: str, entry: Entry) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f"{key}.tmp"
        temporary.write_text(entry.model_dump_json())
        temporary.replace(self.folder / f"{key}.json")

    def depends_on(self, case: Case, replies: list[TurnReply]) -> dict[str, str]:
        """The hashes of the skills `case` expects or was answered by."""
        names = {t.skill for t in case.case.turns} | {r.skill for r in replies}
        return {name: self.skills[name] for name in names if name in self.skills}


def verdict_key(judge_model: str, rubric: str, turn: int) -> str:
    return digest([judge_model, rubric, turn])
