"""WhatsApp through Twilio: verify the webhook, translate it, answer Twilio at once, and send
the bot's reply through the REST API once the turn is done (a slow model never meets Twilio's
15-second webhook timeout).

    POST /whatsapp/webhook   a message: X-Twilio-Signature checked (403 if wrong), retries
                             dropped by MessageSid, empty TwiML returned, the turn run after
    POST /whatsapp/status    delivery callbacks: checked, recorded, failures logged

One conversation per number ('whatsapp:+15551234567'). What is not about Twilio lives
elsewhere: media downloads (`agents.media`), the 24-hour window (`channels.window`),
numbered choices (`channels.choices`), formatting and parts (`channels.whatsapp_text`,
`channels.split`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl

import httpx
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response
from pydantic import ValidationError
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import WhatsAppChannel
from parley_bot.agents.media import MediaError, download
from parley_bot.agents.texts import localize
from parley_bot.channels.choices import Choices
from parley_bot.channels.messages import (
    Attachment,
    InboundMessage,
    OutboundMessage,
    conversation_key,
)
from parley_bot.channels.split import split_text
from parley_bot.channels.twilio_account import STATUS_PATH, WEBHOOK_PATH, TwilioAccount
from parley_bot.channels.twilio_rest import TwilioSender
from parley_bot.channels.whatsapp_text import render
from parley_bot.channels.window import SessionWindow
from parley_bot.knowledge.languages import language_of

MAX_PART = 1600
"""Twilio's limit on one WhatsApp message body."""
LATE_ANSWER = "late_answer"
"""The template that carries an answer ready after the 24-hour window closed."""
STATUS_TTL_S = 7 * 24 * 3600
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
_FAILED = {"failed", "undelivered"}

log = logging.getLogger("parley.whatsapp")


class WhatsApp:
    """The channel for one open bot: takes verified messages, sends replies and templates."""

    def __init__(self, bot: Bot, account: TwilioAccount) -> None:
        self.bot = bot
        self.account = account
        self.sender = TwilioSender(account)
        self.window = SessionWindow(bot.store)
        self.choices = Choices(bot.store)
        self._http = httpx.AsyncClient()

    async def take(self, message: InboundMessage, media: list[tuple[str, str]]) -> None:
        """Run the turn of a verified, first-seen message and send its reply. Failures are
        logged with the conversation and MessageSid: Twilio has had its answer already."""
        try:
            await self.window.heard(message.key)
            try:
                attachments = [await self._fetch(url, kind) for url, kind in media]
            except MediaError as exc:
                log.warning("media refused (conversation=%s event=%s): %s",
                            message.key, message.event_id, exc)
                texts = self.bot.config.texts
                await self._text(message.conversation_id, localize(
                    texts.attachment_too_large if exc.too_large else texts.attachment_failed,
                    language_of(message.text), limit_mb=self._max_bytes / 1e6))
                return
            text = await self.choices.pick(message.key, message.text)
            reply = await self.bot.handle(message.model_copy(
                update={"text": text, "attachments": tuple(attachments)}))
            await self.send(message.conversation_id, reply)
        except TwilioRestException as exc:
            log.error("WhatsApp send failed (conversation=%s event=%s): Twilio error %s "
                      "(HTTP %s): %s", message.key, message.event_id, exc.code, exc.status,
                      exc.msg)
        except Exception:
            log.exception("WhatsApp turn failed (conversation=%s event=%s)",
                          message.key, message.event_id)

    async def send(self, number: str, reply: OutboundMessage) -> None:
        """Send `reply` to `number` ('+1555…'): in parts of at most `MAX_PART` characters
        while its window is open, else as the `late_answer` template."""
        key = conversation_key("whatsapp", number)
        await self.choices.offer(key, reply.buttons)
        text = render(reply)
        if not await self.window.is_open(key):
            await self.notify(number, LATE_ANSWER, {"1": text})
            return
        for part in split_text(text, MAX_PART):
            await self._text(number, part)

    async def notify(self, number: str, template: str,
                     variables: Mapping[str, str] | None = None) -> str:
        """Send the approved template `template` (`channels.whatsapp.templates`) to `number`,
        its default variables updated with `variables`; the message's SID.

        Raises:
            KeyError: flows.yaml has no such template.
        """
        channel = self.bot.config.channels.whatsapp
        templates = channel.templates if channel else {}
        if template not in templates:
            raise KeyError(f"no WhatsApp template {template!r} in flows.yaml "
                           f"channels.whatsapp.templates (known: {sorted(templates)})")
        spec = templates[template]
        return await self.sender.template(f"whatsapp:{number}", spec.content_sid,
                                          {**spec.variables, **(variables or {})})

    async def status(self, params: Mapping[str, str]) -> None:
        """Record a delivery status callback; a failed delivery is logged with its error."""
        sid, state = params.get("MessageSid", ""), params.get("MessageStatus", "")
        error = params.get("ErrorCode")
        if state in _FAILED:
            log.warning("WhatsApp message %s to %s %s (Twilio error %s)",
                        sid, params.get("To"), state, error)
        if sid:
            await self.bot.store.put(f"twilio:status:{sid}",
                                     json.dumps({"status": state, "error_code": error}),
                                     STATUS_TTL_S)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self.sender.aclose()

    @property
    def _max_bytes(self) -> int:
        return (self.bot.config.channels.whatsapp or WhatsAppChannel()).max_media_bytes

    async def _fetch(self, url: str, kind: str) -> Attachment:
        return await download(self._http, url, kind, max_bytes=self._max_bytes,
                              auth=(self.account.account_sid, self.account.auth_token))

    async def _text(self, number: str, body: str) -> None:
        await self.sender.text(f"whatsapp:{number}", body)


def whatsapp_router(account: TwilioAccount) -> APIRouter:
    """The webhook and status routes, verified with the account's auth token. The app keeps
    its `WhatsApp` in `app.state.whatsapp`."""
    router = APIRouter()
    validator = RequestValidator(account.auth_token)

    async def verified(request: Request) -> dict[str, str]:
        # Twilio posts application/x-www-form-urlencoded; the stdlib reads it (no multipart)
        params = dict(parse_qsl((await request.body()).decode(errors="replace"),
                                keep_blank_values=True))
        url = str(request.url)
        if account.public_url:  # behind a proxy: the URL Twilio called is the public one
            query = f"?{request.url.query}" if request.url.query else ""
            url = f"{account.public_url}{request.url.path}{query}"
        if not validator.validate(url, params, request.headers.get("X-Twilio-Signature", "")):
            raise HTTPException(403, "the X-Twilio-Signature does not match")
        return params

    @router.post(WEBHOOK_PATH, responses={403: {}, 422: {}})
    async def webhook(request: Request, background: BackgroundTasks) -> Response:
        params = await verified(request)
        channel: WhatsApp = request.app.state.whatsapp
        message, media = _inbound(params), _media(params)
        if await channel.bot.claim(message):
            background.add_task(channel.take, message, media)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post(STATUS_PATH, status_code=204, responses={403: {}})
    async def status(request: Request) -> Response:
        params = await verified(request)
        channel: WhatsApp = request.app.state.whatsapp
        await channel.status(params)
        return Response(status_code=204)

    return router


def _inbound(params: Mapping[str, str]) -> InboundMessage:
    """The message of a webhook's parameters: the sender's number is the conversation."""
    number = params.get("From", "").removeprefix("whatsapp:")
    sid = params.get("MessageSid")
    if not number or not sid:
        raise HTTPException(422, "a WhatsApp webhook needs From and MessageSid")
    try:
        return InboundMessage(channel="whatsapp", conversation_id=number, user_id=number,
                              user_name=params.get("ProfileName") or None,
                              text=params.get("Body", ""), event_id=sid)
    except ValidationError as exc:
        raise HTTPException(422, f"not a WhatsApp message: {exc}") from None


def _media(params: Mapping[str, str]) -> list[tuple[str, str]]:
    """(URL, content type) of each file the message carries."""
    try:
        count = int(params.get("NumMedia") or 0)
    except ValueError:
        raise HTTPException(422, f"NumMedia {params['NumMedia']!r} is not a number") from None
    return [(params[f"MediaUrl{i}"], params.get(f"MediaContentType{i}", ""))
            for i in range(count) if params.get(f"MediaUrl{i}")]
