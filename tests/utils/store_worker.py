"""A second process on the same store, driven line by line from a test:

    python -m tests.utils.store_worker BACKEND LOCATION PREFIX
    > lock CONVERSATION LEASE_S      holds the conversation's lock; prints 'locked'
    > release                        leaves it; prints 'released'
    > claim CONVERSATION EVENT       prints 'True' or 'False'

Kill it while it holds a lock to play a crashed worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from tests.utils.stores import opened


async def main(backend: str, location: str, prefix: str) -> None:
    async with opened(backend, location, prefix) as store:
        held: contextlib.AsyncExitStack | None = None
        print("ready", flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):  # the loop keeps running
            command, *args = line.split()
            if command == "lock":
                held = contextlib.AsyncExitStack()
                await held.enter_async_context(store.lock(args[0], lease_s=float(args[1])))
                print("locked", flush=True)
            elif command == "release" and held is not None:
                await held.aclose()
                print("released", flush=True)
            elif command == "claim":
                print(await store.claim(args[0], args[1], 60), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
