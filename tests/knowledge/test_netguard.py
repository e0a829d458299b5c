"""The address guard: checked on the address connected to, not on the name asked for."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpcore
import pytest

from parley_bot.knowledge.netguard import AddressRefused, GuardedBackend, refusal
from tests.utils.site import Site


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("::1", "::1 is a loopback address"),
    ("::ffff:127.0.0.1", "127.0.0.1 is a loopback address"),
    ("10.1.2.3", "10.1.2.3 is a private address"),
    ("192.168.0.10", "192.168.0.10 is a private address"),
    ("169.254.169.254", "169.254.169.254 is a cloud metadata address"),
    ("fd00:ec2::254", "fd00:ec2::254 is a cloud metadata address"),
    ("169.254.10.1", "169.254.10.1 is a link-local address"),
    ("100.64.0.1", "100.64.0.1 is not a public address"),
    ("0.0.0.0", "0.0.0.0 is a private address"),
    ("93.184.215.14", None),
    ("2606:4700::6810:84e5", None),
])
def test_only_public_addresses_pass(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


def connect(backend: GuardedBackend, host: str, port: int) -> None:
    backend.connect_tcp(host, port, timeout=5).close()


def test_loopback_is_refused_unless_that_host_and_port_opted_in(site: Site) -> None:
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1 is a loopback address"):
        connect(GuardedBackend(), "127.0.0.1", site.port)
    with pytest.raises(AddressRefused):
        connect(GuardedBackend({("127.0.0.1", site.port + 1)}), "127.0.0.1", site.port)
    connect(GuardedBackend({("127.0.0.1", site.port)}), "127.0.0.1", site.port)


def test_a_name_is_judged_by_the_address_it_resolves_to(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return real("127.0.0.1" if host == "intranet.example" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1 is a loopback address"):
        connect(GuardedBackend(), "intranet.example", site.port)
    asked.clear()
    connect(GuardedBackend({("intranet.example", site.port)}), "intranet.example", site.port)
    # The name is resolved once; the socket connects to the checked address itself.
    assert asked == ["intranet.example", "127.0.0.1"]


def test_a_metadata_address_is_refused_even_when_its_host_opted_in() -> None:
    backend = GuardedBackend({("169.254.169.254", 80)})
    with pytest.raises(AddressRefused, match="cloud metadata"):
        connect(backend, "169.254.169.254", 80)


def test_an_unknown_name_is_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    with pytest.raises(httpcore.ConnectError, match="Name or service not known"):
        connect(GuardedBackend(), "no-such-host.example", 80)
