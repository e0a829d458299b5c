"""A stand-in business API on 127.0.0.1 for HTTP tools: an order system with orders to look
up, a path that fails with 500, one that redirects, and one that never answers until
released. It records every
request (method, raw path, headers, JSON body)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.utils.stub_server import JsonHandler, running

ORDERS = {
    "10045": {"number": "10045", "status": "shipped", "carrier": "DHL", "eta": "2026-06-03",
              "customer": {"email": "ann@example.com", "name": "Ann"}, "internal_notes": "vip"},
}


@dataclass
class ApiStub:
    port: int = 0
    orders: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(ORDERS))
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(stub: ApiStub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            stub.requests.append({"method": self.command, "path": self.path,
                                  "headers": dict(self.headers), "body": body})
            if self.path.startswith("/slow"):
                stub.release.wait(30)
                with contextlib.suppress(ConnectionError):
                    self._json(504, {"error": "too late"})
                return
            if self.path.startswith("/moved"):
                self.send_response(302)
                self.send_header("Location", f"{stub.base_url}/echo/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if self.path.startswith("/broken"):
                return self._json(500, {"error": "database is down"})
            if self.path.startswith("/orders/"):
                order = stub.orders.get(self.path.removeprefix("/orders/"))
                return self._json(200, order) if order else self._json(404, {"error": "no"})
            if self.path.startswith("/echo"):
                return self._json(200, {"path": self.path, "body": body})
            return self._json(404, {"error": "not found"})

        do_GET = do_POST = _serve


    return Handler


@contextmanager
def serving(stub: ApiStub) -> Iterator[ApiStub]:
    """Serve `stub` on a free port for the life of the block; `stub.port` is set."""
    with running(_handler(stub), stub.release) as port:
        stub.port = port
        yield stub
