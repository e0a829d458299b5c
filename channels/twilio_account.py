"""The Twilio account of the WhatsApp channel, read from the environment: the channel is on
exactly when its auth token is set. Kept apart from the REST client, so a server without
WhatsApp never imports twilio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley_bot.agents import safelog
from parley_bot.agents.config import WhatsAppChannel
from parley_bot.agents.media import MediaSource, origin_of
from parley_bot.agents.settings import Settings

WEBHOOK_PATH = "/whatsapp/webhook"
STATUS_PATH = "/whatsapp/status"
TWILIO_API = ("api.twilio.com", 443)
"""Where Twilio's media URLs point (it redirects each to its media CDN)."""


@dataclass(frozen=True)
class TwilioAccount:
    """What the channel needs of the environment."""

    account_sid: str
    auth_token: str = field(repr=False)
    sender: str
    """The bot's WhatsApp address, 'whatsapp:+14155238886'."""
    public_url: str | None = None
    """The base URL Twilio calls (and signs); None: the URL each request arrived at."""
    api_url: str | None = None
    """A base URL to send REST calls to instead of Twilio's."""
    webhook_key: str | None = field(default=None, repr=False)
    """The secret of a webhook SharedKey, for HMAC-SHA256 signatures."""


def twilio_account(channel: WhatsAppChannel | None, settings: Settings) -> TwilioAccount | None:
    """The account, when the channel is on: its auth token is set (in the variable flows.yaml's
    `channels.whatsapp` names, or TWILIO_AUTH_TOKEN).

    Raises:
        ValueError: the token is set but the account SID or the sender is not.
    """
    channel = channel or WhatsAppChannel()
    token = settings.named(channel.auth_token_env, "twilio_auth_token")
    if not token:
        return None
    safelog.hide(token)
    sid = settings.named(channel.account_sid_env, "twilio_account_sid")
    sender = settings.named(channel.from_env, "twilio_whatsapp_from")
    missing = [name for name, value in ((channel.account_sid_env, sid),
                                        (channel.from_env, sender)) if not value]
    if missing or sid is None or sender is None:
        raise ValueError(f"WhatsApp is on ({channel.auth_token_env} is set) but "
                         f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not")
    if not sender.startswith("whatsapp:"):
        sender = f"whatsapp:{sender}"
    public_url = settings.public_url or channel.public_url
    key = settings.twilio_webhook_key.get_secret_value() if settings.twilio_webhook_key else None
    if key:
        safelog.hide(key)
    return TwilioAccount(sid, token, sender, public_url.rstrip("/") if public_url else None,
                         settings.twilio_api_url, key)


def media_source(account: TwilioAccount) -> MediaSource:
    """Where the account's media may come from: Twilio's API (and `TWILIO_API_URL`, which may
    be a private address), the only hosts given its credentials."""
    configured = origin_of(account.api_url) if account.api_url else None
    extra = frozenset({configured}) if configured else frozenset()
    return MediaSource(origins=frozenset({TWILIO_API}) | extra,
                       auth=(account.account_sid, account.auth_token), private_ok=extra)
