"""robots.txt, read once per site and asked before every fetch (RFC 9309).

Rules are matched by the standard library's `urllib.robotparser`; fetching is the caller's
(the guarded client), so robots.txt obeys the same address rules as every page.

    2xx          its rules apply (the group for `parley-ingest`, else the one for '*')
    4xx          no rules: everything may be fetched; so when robots.txt is refused (its
                 address, a redirect elsewhere): the page's own fetch says why it is refused
    5xx, or no   everything is disallowed for this run (RFC 9309 §2.3.1.4); the pages keep
    connection   their indexed copies, as for any transient failure
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.robotparser import RobotFileParser

import httpx

AGENT = "parley-ingest"
MAX_BYTES = 512 * 1024  # RFC 9309: a parser must read at least 500 KiB

Fetch = Callable[[str], tuple[int, bytes]]
"""GET a URL: (status, body). Failures are raised; one whose `transient` attribute is False
means robots.txt is unavailable, any other that it is unreachable."""

Refusal = tuple[str, bool]
"""Why a URL may not be fetched, and whether that may change within minutes (transient)."""


class Robots:
    """The robots.txt verdicts of every site a fetcher visits, each site read once."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._sites: dict[str, RobotFileParser | Refusal] = {}

    def refusal(self, url: str) -> Refusal | None:
        """Why robots.txt forbids fetching `url`; None when it may be fetched."""
        parsed = httpx.URL(url)
        site = str(parsed.copy_with(path="/robots.txt", query=None, fragment=None))
        rules = self._sites.get(site)
        if rules is None:
            rules = self._sites[site] = self._read(site)
        if isinstance(rules, tuple):
            return rules
        return None if rules.can_fetch(AGENT, url) else ("disallowed by robots.txt", False)

    def _read(self, site: str) -> RobotFileParser | Refusal:
        """The parsed rules of `site`, or why every page of it is refused for now."""
        rules = RobotFileParser(site)
        try:
            status, body = self._fetch(site)
        except Exception as exc:  # the fetcher's own error, whatever its kind
            if getattr(exc, "transient", True):
                return f"robots.txt could not be read: {getattr(exc, 'reason', exc)}", True
            status, body = 404, b""  # refused or redirected away: unavailable, like a 4xx
        if status >= 500:
            return f"robots.txt could not be read: HTTP {status}", True
        if status >= 400:
            rules.allow_all = True  # type: ignore[attr-defined]  # what its own read() sets
        else:
            rules.parse(body[:MAX_BYTES].decode("utf-8", errors="replace").splitlines())
        rules.modified()  # marks it read: can_fetch refuses everything until then
        return rules
