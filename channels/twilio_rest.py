"""Twilio's side of the WhatsApp channel: the account read from the environment, and the
real `twilio` REST client, asynchronous, sending messages and templates.

`TWILIO_API_URL` sends the REST calls to another base URL (a stand-in in the tests, a
staging proxy): the client keeps building Twilio's paths, only the scheme and host change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from parley_bot.agents.config import WhatsAppChannel
from parley_bot.agents.settings import Settings

WEBHOOK_PATH = "/whatsapp/webhook"
STATUS_PATH = "/whatsapp/status"
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class TwilioAccount:
    """What the channel needs of the environment."""

    account_sid: str
    auth_token: str
    sender: str
    """The bot's WhatsApp address, 'whatsapp:+14155238886'."""
    public_url: str | None = None
    """The base URL Twilio calls (and signs); None: the URL each request arrived at."""
    api_url: str | None = None
    """A base URL to send REST calls to instead of Twilio's."""


def twilio_account(channel: WhatsAppChannel | None, settings: Settings) -> TwilioAccount | None:
    """The account, when the channel is on: its auth token is set (in the variable flows.yaml's
    `channels.whatsapp` names, or TWILIO_AUTH_TOKEN).

    Raises:
        ValueError: the token is set but the account SID or the sender is not.
    """
    channel = channel or WhatsAppChannel()
    defaults = WhatsAppChannel()

    def read(variable: str, default_variable: str, setting: str | None) -> str | None:
        return os.environ.get(variable) if variable != default_variable else setting

    secret = settings.twilio_auth_token
    token = read(channel.auth_token_env, defaults.auth_token_env,
                 secret.get_secret_value() if secret else None)
    if not token:
        return None
    sid = read(channel.account_sid_env, defaults.account_sid_env, settings.twilio_account_sid)
    sender = read(channel.from_env, defaults.from_env, settings.twilio_whatsapp_from)
    missing = [name for name, value in ((channel.account_sid_env, sid),
                                        (channel.from_env, sender)) if not value]
    if missing or sid is None or sender is None:
        raise ValueError(f"WhatsApp is on ({channel.auth_token_env} is set) but "
                         f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not")
    if not sender.startswith("whatsapp:"):
        sender = f"whatsapp:{sender}"
    public_url = settings.public_url or channel.public_url
    return TwilioAccount(sid, token, sender, public_url.rstrip("/") if public_url else None,
                         settings.twilio_api_url)


class _Client(Client):  # type: ignore[misc]  # twilio ships no type hints
    """Twilio's client, with its REST calls sent to `api_url` when one is given."""

    def __init__(self, account: TwilioAccount, http_client: AsyncTwilioHttpClient) -> None:
        super().__init__(account.account_sid, account.auth_token, http_client=http_client,
                         environment={})
        self._api_url = urlsplit(account.api_url) if account.api_url else None

    def get_hostname(self, uri: str) -> str:
        uri = super().get_hostname(uri)
        if self._api_url is None:
            return uri
        path = urlsplit(uri)
        base = self._api_url
        return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path.path,
                           path.query, ""))


class TwilioSender:
    """Sends WhatsApp messages from the bot's number through Twilio's REST API."""

    def __init__(self, account: TwilioAccount) -> None:
        self._account = account
        self._http = AsyncTwilioHttpClient(timeout=TIMEOUT_S)
        self._client = _Client(account, self._http)
        self._status = f"{account.public_url}{STATUS_PATH}" if account.public_url else None

    async def text(self, to: str, body: str) -> str:
        """Send free text to `to` ('whatsapp:+1555…'); the message's SID."""
        message = await self._client.messages.create_async(
            from_=self._account.sender, to=to, body=body, **self._callback())
        return str(message.sid)

    async def template(self, to: str, content_sid: str, variables: Mapping[str, str]) -> str:
        """Send the approved template `content_sid` with its placeholders filled."""
        message = await self._client.messages.create_async(
            from_=self._account.sender, to=to, content_sid=content_sid,
            content_variables=json.dumps(dict(variables)), **self._callback())
        return str(message.sid)

    async def aclose(self) -> None:
        await self._http.close()

    def _callback(self) -> dict[str, str]:
        return {"status_callback": self._status} if self._status else {}
