"""What the Slack channel takes from a request, checked before bolt or a listener reads it.

Bolt parses a request's body and timestamp before it verifies the signature, and its
listeners index into payloads: junk, or a signed payload missing a field, would end in a 500
with a traceback. Here the signature is verified first (401), the body must be the JSON
object Slack sends (400), and the listeners read their fields through the models below,
ignoring a payload that lacks one with a warning.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("parley.slack")
BINARY = "application/octet-stream"
Model = TypeVar("Model", bound=BaseModel)


async def rejection(request: Request, verifier: SignatureVerifier) -> PlainTextResponse | None:
    """None for a request Slack signed whose body is a JSON object with a `type` (an event
    envelope or an interaction payload); else the response refusing it."""
    raw = await request.body()  # starlette keeps it: bolt reads it again
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    try:
        body = raw.decode()
    except UnicodeDecodeError:
        return PlainTextResponse("the body is not UTF-8", status_code=400)
    if not (timestamp.isascii() and timestamp.isdigit()) or not verifier.is_valid(
            body, timestamp, request.headers.get("X-Slack-Signature")):
        return PlainTextResponse("invalid or stale signature", status_code=401)
    try:
        payload = _parsed(body, request.headers.get("Content-Type"))
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return PlainTextResponse("not a Slack event or interaction payload", status_code=400)
    lacking = _lacking(payload)
    if lacking:
        return PlainTextResponse(f"a {payload['type']} payload without its {lacking}",
                                 status_code=400)
    return None


def _lacking(payload: dict[str, Any]) -> str | None:
    """What bolt's own matching indexes into without a check, when it is missing: an
    event's type, a view's type, a block action."""
    event, view, actions = payload.get("event"), payload.get("view"), payload.get("actions")
    if payload["type"] == "event_callback" and not (
            isinstance(event, dict) and isinstance(event.get("type"), str)):
        return "event type"
    if "view" in payload and not (isinstance(view, dict) and isinstance(view.get("type"), str)):
        return "view type"
    if payload["type"] == "block_actions" and not (
            isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
        return "actions"
    return None


def _parsed(body: str, content_type: str | None) -> object:
    """The body as bolt parses it (`slack_bolt.request.internals.parse_body`)."""
    if content_type == "application/json" or body.startswith("{"):
        return json.loads(body)
    payload = dict(parse_qsl(body, keep_blank_values=True)).get("payload")
    return json.loads(payload) if payload is not None else None


def read(model: type[Model], data: Any, what: str) -> Model | None:
    """`data` as `model`; None, with a warning, when it lacks what the model needs."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, error["loc"])) for error in exc.errors()})
        log.warning("ignored a Slack %s without a valid %s", what, ", ".join(fields))
        return None


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlackFile(_Payload):
    url_private: str | None = None
    name: str | None = None
    mimetype: str = BINARY
    size: int | None = None


class MessageEvent(_Payload):
    """A message or app_mention event: the fields a turn needs."""

    channel: str
    ts: str
    user: str
    text: str = ""
    thread_ts: str | None = None
    team: str | None = None
    channel_type: str | None = None
    files: tuple[SlackFile, ...] = ()


class _Id(_Payload):
    id: str


class _Clicked(_Payload):
    ts: str | None = None
    thread_ts: str | None = None


class Click(_Payload):
    """A block_actions payload of a click on one of the reply's buttons."""

    channel: _Id
    team: _Id
    user: _Id
    message: _Clicked = _Clicked()


class Action(_Payload):
    value: str
    action_ts: str


class _Item(_Payload):
    type: str
    channel: str | None = None
    ts: str | None = None


class Reaction(_Payload):
    user: str
    reaction: str
    item: _Item
