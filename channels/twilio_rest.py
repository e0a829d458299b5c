"""Twilio's REST API through the real `twilio` client, asynchronous: WhatsApp messages and
templates sent from the bot's number.

`TWILIO_API_URL` sends the REST calls to another base URL (a stand-in in the tests, a
staging proxy): the client keeps building Twilio's paths, only the scheme and host change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from parley_bot.channels.twilio_account import STATUS_PATH, TwilioAccount

TIMEOUT_S = 30.0


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
