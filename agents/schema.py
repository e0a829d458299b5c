"""The building blocks every flows.yaml section is made of: the strict base model, the
cross-field error that names its field, and the shorthand validator."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

Loc = tuple[str | int, ...]


class FieldError(ValueError):
    """Cross-field checks failed; each of `errors` names its field, relative to the model."""

    def __init__(self, errors: list[tuple[Loc, str]]) -> None:
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors


def check(errors: list[tuple[Loc, str]]) -> None:
    """Raise every collected cross-field error at once, if there are any."""
    if errors:
        raise FieldError(errors)


class Strict(BaseModel):
    """Base for every section: a typo'd key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def shorthand(key: str) -> Any:
    """A 'before' validator that lets a bare string stand for `{key: string}` in flows.yaml."""

    def expand(cls: type[BaseModel], value: Any) -> Any:
        return {key: value} if isinstance(value, str) else value

    return model_validator(mode="before")(classmethod(expand))  # type: ignore[arg-type]
