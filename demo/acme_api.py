"""A stand-in for Acme Outdoor's order system and product catalog, so the example bot's
HTTP tools have something to call on a machine with no network. `make run` starts it on
127.0.0.1:8001 and points ACME_API at it; a real deployment points ACME_API at the real API.

    python demo/acme_api.py [--port 8001]

    GET /orders/<number>   an order (404 for an unknown number)
    GET /products?q=words  catalog items whose name or tags hold one of the words

Standard library only, so it runs before parley is even installed.
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ORDERS = {
    "10045": {"number": "10045", "status": "shipped", "carrier": "DHL", "eta": "in 2 days",
              "customer": {"email": "ann@example.com"}},
    "10046": {"number": "10046", "status": "being packed", "carrier": None, "eta": "next week",
              "customer": {"email": "bob@example.com"}},
}
PRODUCTS = [
    {"name": "Ridge 2 tent", "price": "$249", "in_stock": True,
     "tags": "tent two person lightweight backpacking 1.9 kg"},
    {"name": "Basecamp 4 tent", "price": "$389", "in_stock": False,
     "tags": "tent four person family camping"},
    {"name": "Polar -10 sleeping bag", "price": "$179", "in_stock": True,
     "tags": "sleeping bag winter warm down -10 C"},
    {"name": "Trail 40 backpack", "price": "$129", "in_stock": True,
     "tags": "backpack daypack 40 litre lightweight"},
    {"name": "Summit GTX boots", "price": "$199", "in_stock": True,
     "tags": "boots hiking waterproof gore-tex"},
]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/orders/"):
            order = ORDERS.get(unquote(url.path.removeprefix("/orders/")))
            return self._json(200, order) if order else self._json(404, {"error": "no order"})
        if url.path == "/products":
            words = {w for q in parse_qs(url.query).get("q", []) for w in q.lower().split()}
            found = [p for p in PRODUCTS
                     if words & set(f"{p['name']} {p['tags']}".lower().split())]
            return self._json(200, {"products": found})
        return self._json(404, {"error": "not found"})

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
