"""A real web site on 127.0.0.1 for the web and ingest tests: static files from a folder,
with ETag and Last-Modified validators, plus switches for what a crawler meets (HTTP errors,
redirects, slow answers)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Site:
    """A running site: write files under `root`; set `status[path]` to make a path fail,
    `redirect[path]` to send it elsewhere (302)."""

    root: Path
    port: int = 0
    status: dict[str, int] = field(default_factory=dict)
    redirect: dict[str, str] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    etags: bool = True
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, user agent)
    answers: list[tuple[str, int]] = field(default_factory=list)  # (path, status)

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
        """A sitemap listing `paths` on this site, and any full URLs as they are."""
        entries = "".join(f"<url><loc>{self.url(p) if p.startswith('/') else p}</loc></url>"
                          for p in paths)
        self.write(name, '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
                         f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>')

    def sitemap_index(self, children: list[str], name: str = "/sitemap_index.xml") -> None:
        entries = "".join(f"<sitemap><loc>{self.url(c)}</loc></sitemap>" for c in children)
        self.write(name, '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns='
                         f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>')

    def fetched(self, path: str | None = None) -> list[str]:
        """Paths requested, in order (`path` alone if given); robots.txt left out."""
        return [p for p, _ in self.requests
                if (p == path if path is not None else p != "/robots.txt")]

    def downloaded(self) -> list[str]:
        """Paths answered with a body (200), robots.txt left out."""
        return [p for p, status in self.answers if status == 200 and p != "/robots.txt"]


def _handler(site: Site) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site.root), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

        def send_response(self, code: int, message: str | None = None) -> None:
            site.answers.append((self.path, code))
            super().send_response(code, message)

        def end_headers(self) -> None:
            etag = getattr(self, "etag", None)
            if etag is not None:
                self.send_header("ETag", etag)
            super().end_headers()

        def do_GET(self) -> None:
            site.requests.append((self.path, self.headers.get("User-Agent", "")))
            if self.path in site.slow:
                time.sleep(site.slow[self.path])
            if self.path in site.status:
                self.send_error(site.status[self.path])
                return
            if self.path in site.redirect:
                self.send_response(302)
                self.send_header("Location", site.redirect[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            file = Path(self.translate_path(self.path))
            if site.etags and file.is_file():
                self.etag = f'"{hashlib.sha256(file.read_bytes()).hexdigest()[:16]}"'
                if self.headers.get("If-None-Match") == self.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
            super().do_GET()  # answers If-Modified-Since when no If-None-Match was sent

    return Handler


@contextmanager
def serving(root: Path) -> Iterator[Site]:
    """Serve files under `root` on a free port of 127.0.0.1 for the life of the block."""
    state = Site(root=root)
    state.root.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
