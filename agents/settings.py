"""What parley reads from the environment, in one typed class.

flows.yaml describes the bot and is committed; secrets and per-deployment addresses come from
the environment (or a `.env` file beside the process), never from flows.yaml. Later channels
add their secrets here. Outside development, a secret still holding its placeholder stops
the start, so a copied example cannot go live.
"""

from __future__ import annotations

import warnings
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER = "changethis"


class Settings(BaseSettings):
    """Environment settings; each field is read from the variable of its upper-case name."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    parley_env: Literal["development", "production"] = Field(
        "development", description="'production' refuses placeholder secrets."
    )
    redis_url: str | None = Field(
        None, description="The store, when flows.yaml's memory.url is unset: redis://…"
    )
    parley_api_token: SecretStr | None = Field(
        None, description="Bearer token of the admin routes; unset turns them off."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="Verifies Slack's requests; setting it turns the Slack channel on."
    )
    slack_bot_token: SecretStr | None = Field(
        None, description="The Slack app's bot token (xoxb-…), for replying."
    )
    slack_app_token: SecretStr | None = Field(
        None, description="The Slack app-level token (xapp-…), for `serve --slack-socket`."
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Slack's Web API base URL (a stand-in in tests)."
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://")):
            raise ValueError(f"REDIS_URL {url!r} must start with redis:// or rediss://")
        return url

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        for name in ("parley_api_token", "slack_signing_secret", "slack_bot_token",
                     "slack_app_token"):
            secret: SecretStr | None = getattr(self, name)
            if secret is not None and secret.get_secret_value() == PLACEHOLDER:
                message = f"{name.upper()} is {PLACEHOLDER!r}: set a real secret"
                if self.parley_env != "development":
                    raise ValueError(message)
                warnings.warn(message, stacklevel=1)
        return self
