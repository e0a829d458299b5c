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
    public_url: str | None = Field(
        None, description="The bot's public base URL (https://bot.example.com): behind a "
        "proxy, the URL Twilio signs is this plus the route's path.",
    )
    twilio_account_sid: str | None = Field(None, description="The Twilio account (AC…).")
    twilio_auth_token: SecretStr | None = Field(
        None, description="Verifies Twilio's webhooks and signs its REST calls; setting it "
        "turns the WhatsApp channel on.",
    )
    twilio_whatsapp_from: str | None = Field(
        None, description="The bot's WhatsApp sender: 'whatsapp:+14155238886'."
    )
    twilio_api_url: str | None = Field(
        None, description="Send Twilio's REST calls to this base URL instead (a stand-in "
        "or staging server): http://127.0.0.1:9000",
    )

    @field_validator("public_url", "twilio_api_url")
    @classmethod
    def _base_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} must start with http:// or https://")
        return url.rstrip("/") if url is not None else None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://")):
            raise ValueError(f"REDIS_URL {url!r} must start with redis:// or rediss://")
        return url

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        for name in ("parley_api_token", "twilio_auth_token"):
            secret: SecretStr | None = getattr(self, name)
            if secret is not None and secret.get_secret_value() == PLACEHOLDER:
                message = f"{name.upper()} is {PLACEHOLDER!r}: set a real secret"
                if self.parley_env != "development":
                    raise ValueError(message)
                warnings.warn(message, stacklevel=1)
        return self
