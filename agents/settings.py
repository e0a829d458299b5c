"""What parley reads from the environment, in one typed class.

flows.yaml describes the bot and is committed; secrets and per-deployment addresses come from
the environment (or a `.env` file beside the process), never from flows.yaml. Later channels
add their secrets here. Outside development, a secret still holding its placeholder stops
the start, so a copied example cannot go live.
"""

from __future__ import annotations

import os
import warnings
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from parley_bot.agents.errors import ParleyError

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
        None, description="Bearer token of /api/*, /metrics and the admin routes. Unset, the "
        "JSON API is open only in development on a loopback address (off in production, "
        "whatever the address); admin routes are off."
    )
    parley_session_secret: SecretStr | None = Field(
        None, description="Signs the web widget's session tokens; required in production "
        "(and shared by every worker process). In development a random one is made per process.",
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
    twilio_webhook_key: SecretStr | None = Field(
        None, description="The secret of a Twilio webhook SharedKey: verifies webhooks signed "
        "with HMAC-SHA256 (those carrying X-Twilio-Webhooks-Signature-Settings).",
    )
    twilio_whatsapp_from: str | None = Field(
        None, description="The bot's WhatsApp sender: 'whatsapp:+14155238886'."
    )
    twilio_api_url: str | None = Field(
        None, description="Send Twilio's REST calls to this base URL instead (a stand-in "
        "or staging server): http://127.0.0.1:9000",
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

    @field_validator("public_url", "twilio_api_url")
    @classmethod
    def _base_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} must start with http:// or https://")
        return url.rstrip("/") if url is not None else None

    @field_validator("slack_api_url")
    @classmethod
    def _with_slash(cls, url: str) -> str:
        """slack_sdk joins method names onto it: without the slash, its last part is lost."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"SLACK_API_URL {url!r} must start with http:// or https://")
        return url if url.endswith("/") else f"{url}/"

    @field_validator("parley_api_token", "parley_session_secret", "twilio_auth_token",
                     "twilio_webhook_key", "slack_signing_secret", "slack_bot_token",
                     "slack_app_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # `NAME=` in a .env file or compose

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://")):
            raise ValueError(f"REDIS_URL {url!r} must start with redis:// or rediss://")
        return url

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        for name in ("parley_api_token", "parley_session_secret", "twilio_auth_token",
                     "twilio_webhook_key", "slack_signing_secret", "slack_bot_token",
                     "slack_app_token"):
            secret: SecretStr | None = getattr(self, name)
            if secret is not None and secret.get_secret_value() == PLACEHOLDER:
                message = f"{name.upper()} is {PLACEHOLDER!r}: set a real secret"
                if self.parley_env != "development":
                    raise ValueError(message)
                warnings.warn(message, stacklevel=1)
        return self

    def session_secret(self) -> str | None:
        """The secret that signs widget sessions; None in development when it is unset (the
        widget then makes a random one per process).

        Raises:
            ParleyError: PARLEY_SESSION_SECRET is unset outside development.
        """
        if self.parley_session_secret is not None:
            return self.parley_session_secret.get_secret_value()
        if self.parley_env != "development":
            raise ParleyError("PARLEY_SESSION_SECRET is unset: the web channel signs its "
                              "sessions with it; set a long random string (python -c 'import "
                              "secrets; print(secrets.token_urlsafe(32))')")
        return None

    def named(self, variable: str, field: str) -> str | None:
        """The value of setting `field` when flows.yaml may name another variable for it.

        `variable` is the name flows.yaml gives (e.g. `channels.slack.bot_token_env`): the
        field's own upper-case name reads the field as validated here; any other name is read
        from the environment, then from `.env` (where Settings reads its own), as Settings
        would. Empty is unset.
        """
        if variable == field.upper():
            value = getattr(self, field)
            found = value.get_secret_value() if isinstance(value, SecretStr) else value
        else:
            found = os.environ.get(variable) or dotenv_values(".env").get(variable)
        return found or None
