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
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

import phonenumbers
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response
from pydantic import ValidationError
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import WhatsAppChannel, WhatsAppTemplate
from parley_bot.agents.errors import StoreError
from parley_bot.agents.media import MediaError, MediaFetcher, refusal
from parley_bot.agents.texts import localize
from parley_bot.channels.choices import Choices
from parley_bot.channels.messages import (
    InboundMessage,
    OutboundMessage,
    conversation_key,
)
from parley_bot.channels.split import split_text
from parley_bot.channels.twilio_account import (
    STATUS_PATH,
    WEBHOOK_PATH,
    TwilioAccount,
    media_source,
)
from parley_bot.channels.twilio_rest import TwilioSender
from parley_bot.channels.whatsapp_text import render
from parley_bot.channels.window import SessionWindow
from parley_bot.knowledge.languages import language_of

MAX_PART = 1600
"""Twilio's limit on one WhatsApp message body."""
LATE_ANSWER = "late_answer"
"""The template that carries an answer ready after the 24-hour window closed."""
LATE_CHARS = 1000
"""The most of such an answer its template variable carries."""
STATUS_TTL_S = 7 * 24 * 3600
ORDER_WAIT_S = 300.0
"""How long a message waits for the one before it from the same number (its download,
turn and send) before the user is asked to try again."""
_FAILED = {"failed", "undelivered"}
MAX_MEDIA = 10
"""Twilio's most files on one message."""
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

log = logging.getLogger("parley.whatsapp")


class WhatsApp:
    """The channel for one open bot: takes verified messages, sends replies and templates."""

    def __init__(self, bot: Bot, account: TwilioAccount) -> None:
        self.bot = bot
        self.account = account
        self.sender = TwilioSender(account)
        self.window = SessionWindow(bot.store)
        self.choices = Choices(bot.store)
        self.media = MediaFetcher(media_source(account))
        base = account.public_url or "<PUBLIC_URL>"
        log.info("WhatsApp is on: in Twilio, set 'When a message comes in' to %s%s (POST) "
                 "and 'Status callback URL' to %s%s", base, WEBHOOK_PATH, base, STATUS_PATH)
        if LATE_ANSWER not in self._templates:
            log.warning("channels.whatsapp.templates has no %r: an answer ready after a "
                        "number's 24-hour window closed cannot be sent", LATE_ANSWER)

    async def take(self, message: InboundMessage, media: list[tuple[str, str]]) -> None:
        """Run the turn of a verified, first-seen message and send its reply. One number's
        messages are taken one at a time, in the order they came (download, turn and send
        under a lock of their own: the turn takes the conversation's lock itself). Failures
        are logged with the conversation and MessageSid: Twilio has had its answer already."""
        try:
            async with self.bot.store.lock(f"whatsapp-order:{message.key}",
                                           wait_s=ORDER_WAIT_S):
                await self._take(message, media)
        except TwilioRestException as exc:
            log.error("WhatsApp send failed (conversation=%s event=%s): Twilio error %s "
                      "(HTTP %s): %s", message.key, message.event_id, exc.code, exc.status,
                      exc.msg)
        except Exception as exc:
            log.exception("WhatsApp turn failed (conversation=%s event=%s)",
                          message.key, message.event_id)
            if isinstance(exc, (StoreError, *self.bot.store.unavailable)):
                await self._apologize(message)

    async def _take(self, message: InboundMessage, media: list[tuple[str, str]]) -> None:
        await self.window.heard(message.key)
        try:
            attachments = [await self.media.fetch(url, kind, max_bytes=self._max_bytes)
                           for url, kind in media]
        except MediaError as exc:
            log.warning("media refused (conversation=%s event=%s): %s",
                        message.key, message.event_id, exc)
            await self._text(message.conversation_id, refusal(
                exc, self.bot.config.texts, language_of(message.text), self._max_bytes))
            return
        text = await self.choices.pick(message.key, message.text)
        reply = await self.bot.handle(message.model_copy(
            update={"text": text, "attachments": tuple(attachments)}))
        await self.send(message.conversation_id, reply)

    async def _apologize(self, message: InboundMessage) -> None:
        """Tell the user to try again when the store failed them: never silence."""
        try:
            await self._text(message.conversation_id, localize(
                self.bot.config.texts.unavailable, language_of(message.text)))
        except Exception:
            log.exception("could not tell %s to try again", message.key)

    async def send(self, number: str, reply: OutboundMessage) -> None:
        """Send `reply` to `number` ('+1555…'): in parts of at most `MAX_PART` characters
        while its window is open, else as the `late_answer` template."""
        key = conversation_key("whatsapp", number)
        await self.choices.offer(key, reply.buttons)
        text = render(reply)
        if not await self.window.is_open(key):
            if LATE_ANSWER not in self._templates:
                log.warning("answer to %s not sent: its 24-hour window closed and "
                            "channels.whatsapp.templates has no %r", key, LATE_ANSWER)
                return
            await self.notify(number, LATE_ANSWER, {"1": late(text)})
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
        templates = self._templates
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
        await self.bot.store.put(f"twilio:status:{sid}",
                                 json.dumps({"status": state, "error_code": error}),
                                 STATUS_TTL_S)

    async def aclose(self) -> None:
        self.media.close()
        await self.sender.aclose()

    @property
    def _templates(self) -> dict[str, WhatsAppTemplate]:
        channel = self.bot.config.channels.whatsapp
        return channel.templates if channel else {}

    @property
    def _max_bytes(self) -> int:
        return (self.bot.config.channels.whatsapp or WhatsAppChannel()).max_media_bytes

    async def _text(self, number: str, body: str) -> None:
        await self.sender.text(f"whatsapp:{number}", body)


def late(text: str) -> str:
    """What of a late answer fits a template variable: one line, its first sentences."""
    parts = split_text(" ".join(text.split()), LATE_CHARS)
    return parts[0] if parts else ""


def whatsapp_router(account: TwilioAccount) -> APIRouter:
    """The webhook and status routes, verified with the account's auth token. The app keeps
    its `WhatsApp` in `app.state.whatsapp`."""
    router = APIRouter()
    validator = RequestValidator(account.auth_token)
    keyed = RequestValidator(account.webhook_key) if account.webhook_key else None

    async def verified(request: Request) -> dict[str, str]:
        # Twilio posts application/x-www-form-urlencoded; the stdlib reads it (no multipart)
        params = dict(parse_qsl((await request.body()).decode(errors="replace"),
                                keep_blank_values=True))
        url = str(request.url)
        if account.public_url:  # behind a proxy: the URL Twilio called is the public one
            query = f"?{request.url.query}" if request.url.query else ""
            url = f"{account.public_url}{request.url.path}{query}"
        signature = request.headers.get("X-Twilio-Signature", "")
        signed_with = request.headers.get(SIGNATURE_SETTINGS_HEADER)
        if signed_with:  # a SharedKey signature (HMAC-SHA256), not the auth token's
            if keyed is None:
                raise HTTPException(403, "signed with a webhook SharedKey, and "
                                         "TWILIO_WEBHOOK_KEY is not set")
            valid = keyed.validate(url, params, signature, get_signature_algorithm(signed_with))
        else:
            valid = validator.validate(url, params, signature)
        if not valid:
            raise HTTPException(403, "the X-Twilio-Signature does not match")
        return params

    @router.post(WEBHOOK_PATH, responses={403: {}, 422: {}})
    async def webhook(request: Request, background: BackgroundTasks) -> Response:
        params = await verified(request)
        channel: WhatsApp = request.app.state.whatsapp
        message, media = _inbound(params), _media(params)
        if await channel.bot.claim(message):
            background.add_task(channel.take, message, media)
        return Response(str(MessagingResponse()), media_type="text/xml")

    @router.post(STATUS_PATH, status_code=204, responses={403: {}, 422: {}})
    async def status(request: Request) -> Response:
        params = await verified(request)
        if not _MESSAGE_SID.fullmatch(params.get("MessageSid", "")):
            raise HTTPException(422, "MessageSid must be SM or MM and 32 hex digits")
        channel: WhatsApp = request.app.state.whatsapp
        await channel.status(params)
        return Response(status_code=204)

    return router


def _inbound(params: Mapping[str, str]) -> InboundMessage:
    """The message of a webhook's parameters: the sender's number is the conversation.
    Errors name the field, never its value (no echo of what was posted)."""
    number = _number(params.get("From", ""))
    sid = params.get("MessageSid", "")
    if not _MESSAGE_SID.fullmatch(sid):
        raise HTTPException(422, "MessageSid must be SM or MM and 32 hex digits")
    try:
        return InboundMessage(channel="whatsapp", conversation_id=number, user_id=number,
                              user_name=params.get("ProfileName") or None,
                              text=params.get("Body", ""), event_id=sid)
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise HTTPException(422, f"not a WhatsApp message (invalid: {fields})") from None


def _number(sender: str) -> str:
    """'+15551234567' of 'whatsapp:+15551234567'; 422 for anything else (an SMS sender)."""
    number = sender.removeprefix("whatsapp:")
    if number == sender or not _E164.fullmatch(number):
        raise HTTPException(422, "From must be a WhatsApp number: whatsapp:+<E.164>")
    try:
        possible = phonenumbers.is_possible_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        possible = False
    if not possible:
        raise HTTPException(422, "From is not a possible phone number")
    return number


def _media(params: Mapping[str, str]) -> list[tuple[str, str]]:
    """(URL, content type) of each file the message carries (Twilio sends at most 10)."""
    count = params.get("NumMedia") or "0"
    if not re.fullmatch(r"[0-9]{1,2}", count) or int(count) > MAX_MEDIA:
        raise HTTPException(422, f"NumMedia must be a whole number from 0 to {MAX_MEDIA}")
    return [(params[f"MediaUrl{i}"], params.get(f"MediaContentType{i}", ""))
            for i in range(int(count)) if params.get(f"MediaUrl{i}")]
