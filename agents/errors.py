"""The exceptions parley raises, one tree so callers can catch at the depth they need.

    ParleyError
    ├── ConfigError          flows.yaml is unreadable or invalid (carries every problem found)
    ├── MissingExtraError    an optional feature was asked for without its extra installed
    ├── ModelError           a configured model failed or timed out (the bot falls back)
    │   └── ModelTimeoutError    ... ran out of time
    ├── KnowledgeError       a knowledge source cannot be read or indexed
    ├── ToolError            a tool call failed, timed out or was refused (the bot says so)
    │   └── NotFoundError    the tool's system has nothing under those arguments (HTTP 404)
    ├── PrivacyError         redaction cannot be set up as configured (its key is unset)
    └── StoreError           the conversation store cannot take this turn (the user is asked
        │                    to try again; nothing of the turn is kept)
        ├── StoreUnavailable     the store cannot be reached or written (Redis down, disk full)
        └── ConversationBusy     earlier turns of the conversation held it past the wait
"""

from __future__ import annotations

from dataclasses import dataclass


class ParleyError(Exception):
    """Base class of every error parley raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in a config file, located so an editor can jump to it."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(ParleyError):
    """flows.yaml could not be loaded; `problems` lists every one found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        super().__init__("\n".join(str(p) for p in self.problems))


class MissingExtraError(ParleyError):
    """An optional dependency is missing; the message names the install line."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs an optional extra: pip install 'parley-bot[{extra}]'")


class ModelError(ParleyError):
    """A chat model failed, timed out or returned nothing usable."""


class ModelTimeoutError(ModelError):
    """A chat model gave no whole answer within its `timeout_s` (counted apart in metrics)."""


class KnowledgeError(ParleyError):
    """A knowledge source could not be loaded or indexed."""


class ToolError(ParleyError):
    """A tool call failed, timed out or was refused; the message says which tool and why."""


class NotFoundError(ToolError):
    """The tool's system answered that nothing matches (an unknown order number)."""


class PrivacyError(ParleyError):
    """Personal-data redaction cannot be set up as flows.yaml asks."""


class StoreError(ParleyError):
    """The conversation store cannot take this turn now; trying again later may work."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or written: Redis is down, the disk is full."""


class ConversationBusy(StoreError):
    """The conversation's earlier turns held it for longer than a new turn may wait."""
