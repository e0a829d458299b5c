"""A stand-in Twilio REST API on 127.0.0.1: the real `twilio` client sends messages to it
(form-encoded, basic auth, Twilio's paths) and it records them; it also serves media as Twilio
does, the API URL answering with a redirect to a media host that needs no credentials: the
same server, or a second one (`serving(stub, cdn=True)`) as Twilio's CDN is another host."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl

from tests.utils.stub_server import JsonHandler, running

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-test-token"
_MESSAGES = re.compile(rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages\.json")
_MEDIA = re.compile(rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/\w+/Media/(\w+)")


def sid_of(label: str, prefix: str = "SM") -> str:
    """A Twilio-shaped SID (prefix and 32 hex digits) named by `label` in a test."""
    return prefix + hashlib.md5(label.encode()).hexdigest()


@dataclass
class TwilioStub:
    port: int = 0
    sent: list[dict[str, str]] = field(default_factory=list)
    """The form fields of every message created (Body, To, From, ContentSid, …), in order."""
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Files by media id: content type and bytes."""
    refused: dict[str, int] = field(default_factory=dict)
    """Recipients whose messages Twilio refuses, with its error code (HTTP 400)."""
    unsized: set[str] = field(default_factory=set)
    """Media ids served without a Content-Length (read until the connection closes)."""
    held: set[str] = field(default_factory=set)
    """Media ids served only once `gate` is set (a slow download)."""
    gate: threading.Event = field(default_factory=threading.Event)
    media_fetches: list[str] = field(default_factory=list)
    """Each media request: its port and path, and whether it carried any credentials."""
    release: threading.Event = field(default_factory=threading.Event)
    cdn_port: int | None = None
    """The port of a second server the API redirects media to, when there is one."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def media_url(self, media_id: str) -> str:
        """The URL a webhook names the file by (MediaUrl0)."""
        return f"{self.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/{media_id}"

    def wait(self, count: int, deadline_s: float = 20.0,
             until: Callable[[], bool] | None = None) -> list[dict[str, str]]:
        """The messages sent, once there are `count` of them (or `until` holds)."""
        stop = time.monotonic() + deadline_s
        while time.monotonic() < stop:
            if (until() if until else len(self.sent) >= count):
                return list(self.sent)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} message(s) within {deadline_s} s, got "
                             f"{self.sent}")


def _authorized(header: str | None) -> bool:
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    return header == f"Basic {expected}"


def _handler(stub: TwilioStub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if not _MESSAGES.fullmatch(self.path):
                return self._json(404, {"code": 20404, "message": "not found", "status": 404})
            if not _authorized(self.headers.get("Authorization")):
                return self._json(401, {"code": 20003, "message": "Authenticate",
                                        "status": 401})
            fields = dict(parse_qsl(body))
            if fields.get("To") in stub.refused:
                code = stub.refused[fields["To"]]
                return self._json(400, {"code": code, "status": 400,
                                        "message": f"stand-in refusal {code}"})
            stub.sent.append(fields)
            sid = f"SM{len(stub.sent):032x}"
            return self._json(201, {
                "sid": sid, "account_sid": ACCOUNT_SID, "status": "queued",
                "to": fields.get("To"), "from": fields.get("From"), "body": fields.get("Body"),
                "num_media": "0", "num_segments": "1", "direction": "outbound-api",
                "api_version": "2010-04-01", "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/"
                                                   f"Messages/{sid}.json",
            })

        def do_GET(self) -> None:
            port = self.server.server_address[1]
            credentials = self.headers.get("Authorization") is not None
            stub.media_fetches.append(f"{port}{self.path} auth={credentials}")
            api = _MEDIA.fullmatch(self.path)
            if api is not None:
                if not _authorized(self.headers.get("Authorization")):
                    return self._json(401, {"code": 20003, "message": "Authenticate"})
                host = f"http://127.0.0.1:{stub.cdn_port}" if stub.cdn_port else ""
                self.send_response(307)
                self.send_header("Location", f"{host}/media-host/{api.group(1)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            media_id = self.path.removeprefix("/media-host/")
            if media_id == self.path or media_id not in stub.media:
                return self._json(404, {"message": "not found"})
            if media_id in stub.held:
                stub.gate.wait(30)
            kind, data = stub.media[media_id]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            if media_id in stub.unsized:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None

    return Handler


@contextmanager
def serving(stub: TwilioStub, cdn: bool = False) -> Iterator[TwilioStub]:
    """Run the stand-in; with `cdn`, media redirects go to a second server (another host)."""
    with running(_handler(stub), stub.release) as port, \
            (running(_handler(stub), stub.release) if cdn else nullcontext()) as cdn_port:
        stub.port, stub.cdn_port = port, cdn_port
        yield stub
