"""What every stand-in HTTP server of the tests shares: a JSON-speaking handler base and
serving on a free port of 127.0.0.1 in a background thread."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def handle(self) -> None:
        # A client that hung up (it timed out, or stopped reading a stream) ends the
        # exchange; socketserver would print its traceback, after the test is over.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def running(handler: type[BaseHTTPRequestHandler], release: threading.Event) -> Iterator[int]:
    """Serve `handler` for the life of the block, yielding its port; `release` is set at the
    end so requests held open let go."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        release.set()
        server.shutdown()
        server.server_close()
