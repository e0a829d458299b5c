"""A real web site on 127.0.0.1 for the web and ingest tests: static files from a folder,
plus switches for the failures a crawler meets (HTTP errors, slow answers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Site:
    """A running site: write files under `root`; set `status[path]` to make a path fail."""

    root: Path
    port: int = 0
    status: dict[str, int] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, user agent)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def write(self, path: str, content: str | bytes) -> None:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)

    def sitemap(self, paths: list[str], name: str = "/sitemap.xml") -> None:
        entries = "".join(f"<url><loc>{self.url(p)}</loc></url>" for p in paths)
        self.write(name, '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
                         f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>')

    def sitemap_index(self, children: list[str], name: str = "/sitemap_index.xml") -> None:
        entries = "".join(f"<sitemap><loc>{self.url(c)}</loc></sitemap>" for c in children)
        self.write(name, '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns='
                         f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>')

    def fetched(self, path: str | None = None) -> list[str]:
        return [p for p, _ in self.requests if path is None or p == path]


def _handler(site: Site) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site.root), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            site.requests.append((self.path, self.headers.get("User-Agent", "")))
            if self.path in site.slow:
                time.sleep(site.slow[self.path])
            if self.path in site.status:
                self.send_error(site.status[self.path])
                return
            super().do_GET()

    return Handler


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    state = Site(root=tmp_path / "www")
    state.root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)
