"""Where the knowledge fetcher may go: the sites a source may lead to (`Scope`), and the
addresses it may connect to, checked where it connects (`GuardedBackend`).

A URL's host name says nothing certain about where a request goes: DNS may answer with a
private address, or with a public one the first time and 127.0.0.1 the next. So the check
is made on the address itself, at the moment of connecting: `GuardedBackend` resolves the
name once, refuses what the policy refuses, and connects to the address it checked.

Refused: loopback, private, link-local, shared (CGNAT), reserved, multicast and unspecified
addresses, IPv4 ones written as IPv6 included; a host and port named by a source with
`allow_private: true` is let through. Cloud metadata addresses are refused even then.

httpx has no public hook for a network backend, so `guarded_transport` sets the one of its
connection pool. Proxies from the environment are not used: behind one, the address checked
would be the proxy's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from parley_bot.agents.errors import KnowledgeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_DEFAULT_PORTS = {"http": 80, "https": 443}

METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
    "169.254.170.2",  # AWS ECS task credentials
    "fd00:ec2::254",  # AWS over IPv6
    "100.100.100.200",  # Alibaba Cloud
))


@dataclass(frozen=True)
class Scope:
    """Where one web source may lead.

    Args:
        url: the source's page or sitemap; its site is the one the source may fetch from.
        source: the knowledge source's name, which its documents carry.
        allow_hosts: other host names its sitemap entries and redirects may lead to.
        allow_private: whether the host and port of `url` may be a non-public address.
    """

    url: str
    source: str = ""
    allow_hosts: frozenset[str] = frozenset()
    allow_private: bool = False

    def refusal(self, url: str) -> str | None:
        """Why `url` is outside this source; None when it may be fetched."""
        try:
            target, home = httpx.URL(url), httpx.URL(self.url)
        except httpx.InvalidURL as exc:
            return f"invalid URL ({exc})"
        if target.scheme not in _DEFAULT_PORTS:
            return "not an http(s) URL"
        if target.host in {h.lower() for h in self.allow_hosts}:
            return None
        upgrade = (home.scheme, _port(home), target.scheme, _port(target)) == (
            "http", 80, "https", 443)
        if target.host == home.host and (_port(target) == _port(home) or upgrade):
            return None
        where = target.netloc.decode("ascii", errors="replace")
        return f"{where} is another site (allow_hosts names the hosts a source may lead to)"

    @property
    def origin(self) -> tuple[str, int]:
        """(host, port) of `url`, as the connection to it is made."""
        home = httpx.URL(self.url)
        return home.host, _port(home)


class AddressRefused(KnowledgeError):
    """A connection was not made because of where it would have gone."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"{host}:{port}: {reason}")
        self.reason = reason


def refusal(address: IPAddress) -> str | None:
    """Why `address` is not one to fetch knowledge from; None for a public address."""
    address = _plain(address)
    if address in METADATA:
        return f"{address} is a cloud metadata address"
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return f"{address} is a {kind.replace('_', '-')} address"
    return None if address.is_global else f"{address} is not a public address"


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses the policy allows.

    Args:
        private_ok: (host, port) pairs that may resolve to a non-public address: the
            sources that opted in with `allow_private`.
    """

    def __init__(self, private_ok: Iterable[tuple[str, int]] = ()) -> None:
        self.private_ok = set(private_ok)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None,
                    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc.strerror or exc}") from exc
        reasons: list[str] = []
        failure: Exception | None = None
        for address in dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos):
            reason = refusal(address)
            if reason is not None and (_plain(address) in METADATA
                                       or (host.lower(), port) not in self.private_ok):
                reasons.append(reason)
                continue
            try:
                return super().connect_tcp(str(address), port, timeout, local_address,
                                           socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address may answer
        if failure is not None:
            raise failure
        raise AddressRefused(host, port, reasons[0] if reasons else "no address")


def guarded_transport(backend: GuardedBackend) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through `backend`. A client given a
    transport of its own reads no proxy from the environment."""
    transport = httpx.HTTPTransport()
    transport._pool._network_backend = backend  # type: ignore[union-attr]  # no public hook
    return transport


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (::ffff:127.0.0.1) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _port(url: httpx.URL) -> int:
    return url.port or _DEFAULT_PORTS.get(url.scheme, 0)
