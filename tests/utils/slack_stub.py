"""A stand-in Slack Web API on 127.0.0.1 (slack_sdk's `base_url` points at it) and builders of
the requests Slack sends, signed with slack_sdk's own `SignatureVerifier`.

The stand-in records every call (method and arguments), answers `auth.test` as the bot
UBOT, gives each posted message a fresh `ts`, and can answer the next calls of a method with
429 and `Retry-After` or with an error. `SocketStub` stands in for Socket Mode's websocket."""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode

from slack_sdk.signature import SignatureVerifier
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.utils.stub_server import JsonHandler, running

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
BOT_USER = "UBOT"
TEAM = "T1"


@dataclass
class SlackStub:
    port: int = 0
    calls: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    limited: dict[str, int] = field(default_factory=dict)
    """method → how many of its next calls get 429."""
    retry_after: int = 1
    """The Retry-After of a 429, in seconds."""
    socket_url: str | None = None
    """What apps.connections.open hands out: the Socket Mode stand-in's address."""
    errors: dict[str, str] = field(default_factory=dict)
    """method → the error its next call fails with ('channel_not_found', …)."""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """path → (content, type) served to GET (a file's url_private)."""
    downloads: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, Authorization header) of each GET."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def called(self, method: str) -> list[dict[str, Any]]:
        """The arguments of each call of `method` that succeeded, in order."""
        with self.lock:
            return [args for name, args, _ in self.calls
                    if name == method and "failed" not in args]

    def replies(self) -> list[dict[str, Any]]:
        """Each reply started: a stream, or a message posted (to be edited)."""
        with self.lock:
            return [args for name, args, _ in self.calls if "failed" not in args
                    and name in ("chat.startStream", "chat.postMessage")]

    def finals(self) -> list[dict[str, Any]]:
        """Each reply finished: its stream stopped, or its message edited into blocks."""
        with self.lock:
            return [args for name, args, _ in self.calls if "failed" not in args and (
                name == "chat.stopStream" or (name == "chat.update" and "blocks" in args))]

    def wait(self, done: Callable[[SlackStub], bool], timeout: float = 30) -> None:
        """Return once `done(self)` holds; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not done(self):
            assert time.monotonic() < deadline, f"timed out; calls: {self.calls}"
            time.sleep(0.05)


def _handler(stub: SlackStub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:
            with stub.lock:
                stub.downloads.append((self.path, self.headers.get("Authorization")))
            if self.path not in stub.files:
                return self._json(404, {"ok": False, "error": "file_not_found"})
            content, kind = stub.files[self.path]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")  # some methods send query parameters
            method = path.strip("/")
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            args = {**dict(parse_qsl(query)), **(
                json.loads(raw) if "json" in (self.headers.get("Content-Type") or "")
                else dict(parse_qsl(raw)))}
            with stub.lock:
                limited = stub.limited.get(method, 0) > 0
                if limited:
                    stub.limited[method] -= 1
                    args = {**args, "failed": True}
                error = stub.errors.pop(method, None)
                if error is not None:
                    args = {**args, "failed": True}
                stub.calls.append((method, args, time.monotonic()))
                ts = f"1800000000.{next(stub._ts):06d}"
            if limited:
                data = b'{"ok": false, "error": "ratelimited"}'
                self.send_response(429)
                self.send_header("Retry-After", str(stub.retry_after))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if error is not None:
                return self._json(200, {"ok": False, "error": error})
            if method == "auth.test":
                return self._json(200, {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT",
                                        "team_id": TEAM, "user": "parley", "team": "Acme"})
            if method == "apps.connections.open":
                return self._json(200, {"ok": True, "url": stub.socket_url})
            if method in ("chat.postMessage", "chat.startStream"):
                return self._json(200, {"ok": True, "channel": args.get("channel"), "ts": ts})
            return self._json(200, {"ok": True, "ts": args.get("ts")})

    return Handler


@contextmanager
def serving(stub: SlackStub | None = None) -> Iterator[SlackStub]:
    stub = stub or SlackStub()
    with running(_handler(stub), stub.release) as port:
        stub.port = port
        yield stub


def signed(body: str, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    """The headers Slack sends with `body`, signed at `at` (default: now)."""
    timestamp = str(int(time.time() if at is None else at))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def event(inner: dict[str, Any], event_id: str = "Ev1") -> str:
    """An Events API delivery of `inner`, as JSON."""
    return json.dumps({"token": "unused", "team_id": TEAM, "api_app_id": "A1",
                       "type": "event_callback", "event_id": event_id,
                       "event_time": 1700000000, "event": inner})


def mention(text: str, ts: str = "1700000000.000100", channel: str = "C1",
            **extra: Any) -> dict[str, Any]:
    return {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {text}", "ts": ts,
            "channel": channel, "event_ts": ts, **extra}


def click(value: str, message: dict[str, Any], channel: str = "C1") -> str:
    """A block_actions interaction: the user tapped a button of `message`, form-encoded."""
    payload = {"type": "block_actions", "team": {"id": TEAM, "domain": "acme"},
               "user": {"id": "U1"}, "api_app_id": "A1", "token": "unused",
               "trigger_id": "1.2.3", "channel": {"id": channel, "name": "general"},
               "container": {"type": "message", "message_ts": message["ts"],
                             "channel_id": channel},
               "message": message,
               "actions": [{"action_id": "parley_reply_0", "block_id": "b", "type": "button",
                            "value": value, "action_ts": "1700000009.000001",
                            "text": {"type": "plain_text", "text": value}}]}
    return urlencode({"payload": json.dumps(payload)})


@dataclass
class SocketStub:
    """A stand-in for Slack's Socket Mode websocket: says hello to the client, sends it the
    envelopes put in `outbox`, and records what the client sends back (acknowledgements)."""

    port: int = 0
    outbox: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def deliver(self, body: str, envelope_id: str = "env-1") -> None:
        """Send an Events API delivery (`event(...)`) as Slack's socket does."""
        self.outbox.put({"envelope_id": envelope_id, "type": "events_api",
                         "accepts_response_payload": False, "retry_attempt": 0,
                         "retry_reason": "", "payload": json.loads(body)})

    def _serve(self, socket: ServerConnection) -> None:
        socket.send(json.dumps({"type": "hello", "num_connections": 1,
                                "debug_info": {"host": "stand-in"}}))
        with contextlib.suppress(ConnectionClosed):
            while True:
                with contextlib.suppress(queue.Empty):
                    socket.send(json.dumps(self.outbox.get(timeout=0.05)))
                with contextlib.suppress(TimeoutError):
                    self.received.append(json.loads(socket.recv(timeout=0.05)))


@contextmanager
def socket_serving() -> Iterator[SocketStub]:
    stub = SocketStub()
    with serve(stub._serve, "127.0.0.1", 0) as server:
        stub.port = server.socket.getsockname()[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield stub
        finally:
            server.shutdown()
