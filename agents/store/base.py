"""The storage contract: everything parley's worker processes share, behind one class.

A `Store` holds the conversations (the LangGraph checkpointer with the recent history, and
the transcript of every turn with its feedback), and the small shared state that keeps
several processes in step: a lock per conversation so its turns run one at a time, event
claims that drop a platform's retries, and the counters behind rate limits. It is also a
`SharedState`, so other features (a model's circuit breaker) keep their keys in it.

Each backend is one module, as LangGraph's savers are: `memory` (one process: tests),
`sqlite` (the embedded default; correct for several processes on one file) and `redis`
(Redis, Valkey, Redis Cluster; no modules needed). `open_store` picks one from the config.
Every backend runs the same tests, `tests/agents/store/test_contract.py`.

A turn's checkpoint is stored in one transaction with its record: while the turn graph
runs, `holding(conversation)` keeps the checkpointer's writes for that conversation back,
and `append(turn, held)` stores both, so a store that fails mid-turn keeps neither.

Errors: a backend raises its driver's errors (listed in `unavailable`) when it cannot be
reached or written; `Bot` turns those into a "try again" reply. Conversation keys are
'<channel>:<id>' (`InboundMessage.key`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import uuid4

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from parley_bot.agents.errors import ConversationBusy, StoreUnavailable
from parley_bot.channels.messages import Feedback, Turn

log = logging.getLogger("parley.store")

PRUNE_EVERY = 16
"""A conversation's superseded checkpoints are dropped every this many of its turns: pruning
on every turn would add a delete to each, and the transcript keeps every turn anyway."""
LEASE_S = 10.0
"""How long a conversation stays locked after its worker stops renewing (it crashed)."""
WAIT_S = 60.0
"""How long a turn waits for the conversation's earlier turns before giving up."""


def serializer() -> JsonPlusSerializer:
    """The checkpoint serializer, strict: checkpoints hold only plain data (the history as
    text; the turn's own keys are never checkpointed), so no class may be rebuilt from one."""
    return JsonPlusSerializer(allowed_msgpack_modules=None)


@dataclass
class Lease:
    """A conversation's lock as `Store.lock` holds it."""

    conversation: str
    token: str
    released: bool = False
    """Set by a backend whose `append` gave the lock up in the same step as the turn."""
    read: bool = False
    """Whether the backend read the conversation's latest checkpoint as it took the lock (in
    one round trip): `latest`, served to the checkpointer's first read inside `holding`."""
    latest: CheckpointTuple | None = None


@dataclass
class HeldWrites:
    """A running turn's checkpoint writes, held back to be stored with the turn's record."""

    conversation: str
    lease: Lease | None = None
    """The lock the turn runs under: a backend may release it with the turn's record,
    saving a round trip (the lock guards the turn until its record is stored)."""
    puts: list[tuple[RunnableConfig, Checkpoint, CheckpointMetadata, ChannelVersions]] = field(
        default_factory=list)
    """`aput` calls, in order: config, checkpoint, metadata, new versions."""
    writes: list[tuple[RunnableConfig, Sequence[tuple[str, Any]], str, str]] = field(
        default_factory=list)
    """`aput_writes` calls, in order: config, writes, task id, task path."""


_held: ContextVar[HeldWrites | None] = ContextVar("parley_held_writes", default=None)


def stored_config(config: RunnableConfig, checkpoint_id: str) -> RunnableConfig:
    """The config `aput` returns for a checkpoint stored under `config`."""
    configurable = config["configurable"]
    return {"configurable": {"thread_id": configurable["thread_id"],
                             "checkpoint_ns": configurable.get("checkpoint_ns", ""),
                             "checkpoint_id": checkpoint_id}}


class HoldsTurnWrites(BaseCheckpointSaver[str]):
    """Mixed into each backend's checkpointer: inside `Store.holding(conversation)`, writes
    to that conversation are kept in the `HeldWrites` instead of stored, and its first read
    of the latest checkpoint is the one read with the lock, if the backend did; all others
    pass through to the saver."""

    @staticmethod
    def _holding(config: RunnableConfig) -> HeldWrites | None:
        held = _held.get()
        if held is None or held.conversation != config["configurable"]["thread_id"]:
            return None
        return held

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        held = self._holding(config)
        lease = held.lease if held else None
        if (lease and lease.read and not config["configurable"].get("checkpoint_ns")
                and not get_checkpoint_id(config)):
            lease.read = False  # once: the turn's own writes are held, not stored
            return lease.latest
        return await super().aget_tuple(config)

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint,
                   metadata: CheckpointMetadata, new_versions: ChannelVersions
                   ) -> RunnableConfig:
        if (held := self._holding(config)) is None:
            return await super().aput(config, checkpoint, metadata, new_versions)
        held.puts.append((config, checkpoint, metadata, new_versions))
        return stored_config(config, checkpoint["id"])

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
                          task_id: str, task_path: str = "") -> None:
        if (held := self._holding(config)) is None:
            return await super().aput_writes(config, writes, task_id, task_path)
        held.writes.append((config, list(writes), task_id, task_path))
        return None


class Store(ABC):
    """One bot's shared storage. Open it with `open_store(config)`; every method is safe to
    call from any number of processes sharing the backend (the in-memory one: one process).
    """

    checkpointer: BaseCheckpointSaver[str]
    """The LangGraph checkpointer the turn graph is compiled with; `thread_id` is the
    conversation key. It implements `aprune` and `adelete_thread`."""

    unavailable: ClassVar[tuple[type[Exception], ...]] = (StoreUnavailable,)
    """The exceptions that mean the backend cannot be reached or written."""

    # -- transcript -------------------------------------------------------------------------

    @abstractmethod
    async def append(self, turn: Turn, held: HeldWrites | None = None) -> int:
        """Store one finished turn at the end of its conversation's transcript, and in the
        same transaction the checkpoint writes held back while it ran.

        Args:
            turn: the turn; `turn.key` names the conversation, `turn.id` must be new.
            held: the turn's checkpoint writes (`holding`), or None. A backend may also
                release `held.lease` in that step, setting its `released`.

        Returns:
            How many turns the conversation has now, this one included.
        """

    @contextlib.contextmanager
    def holding(self, conversation: str, lease: Lease | None = None) -> Iterator[HeldWrites]:
        """Hold back the checkpointer's writes to `conversation` for the block (in this task
        and the tasks it starts), to be stored by `append(turn, held)`; `lease`, the lock the
        block runs under, may be released by that `append`."""
        held = HeldWrites(conversation, lease)
        token = _held.set(held)
        try:
            yield held
        finally:
            _held.reset(token)

    @abstractmethod
    async def turns(
        self, conversation: str, *, limit: int | None = None, before: str | None = None
    ) -> list[Turn]:
        """A page of a conversation's transcript, oldest first.

        Args:
            conversation: the conversation key.
            limit: at most this many turns, the latest ones of the page; None for all.
            before: only turns stored before the turn with this id (the previous page's
                first turn); an unknown id gives an empty page.

        Returns:
            The turns with their feedback; empty for an unknown conversation.
        """

    @abstractmethod
    async def feedback(self, conversation: str, turn_id: str, feedback: Feedback) -> bool:
        """Attach feedback to a stored turn, replacing any given before.

        Returns:
            False if the conversation has no turn `turn_id`.
        """

    # -- one turn at a time -----------------------------------------------------------------

    @abstractmethod
    async def acquire(self, conversation: str, token: str, lease_s: float) -> bool:
        """Take the conversation's lock for `lease_s` seconds unless another token holds it.

        Returns:
            Whether `token` holds the lock now.
        """

    async def take(self, lease: Lease, lease_s: float) -> bool:
        """`acquire` for `lock`; a backend that can also read the conversation's latest
        checkpoint in the same step sets `lease.read` and `lease.latest`."""
        return await self.acquire(lease.conversation, lease.token, lease_s)

    @abstractmethod
    async def renew(self, conversation: str, token: str, lease_s: float) -> bool:
        """Extend the lease of a lock `token` holds to `lease_s` seconds from now.

        Returns:
            False if `token` no longer holds it (the lease ran out and another took it).
        """

    @abstractmethod
    async def release(self, conversation: str, token: str) -> None:
        """Give up the lock if `token` holds it; otherwise do nothing."""

    @contextlib.asynccontextmanager
    async def lock(
        self, conversation: str, *, lease_s: float = LEASE_S, wait_s: float = WAIT_S
    ) -> AsyncIterator[Lease]:
        """Hold the conversation for the block, across every process sharing the store (or
        until `append` releases the lease it is given with the turn's record).

        The lease is renewed every third of `lease_s` while the block runs, so a long turn
        keeps the lock and a crashed worker's lock frees itself `lease_s` after its last
        renewal.

        Args:
            conversation: the conversation key.
            lease_s: how long the lock outlives a holder that stopped renewing it.
            wait_s: how long to wait for another holder before giving up.

        Raises:
            ConversationBusy: the lock was not free within `wait_s`.
        """
        lease = Lease(conversation, uuid4().hex)
        token = lease.token
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        pause = 0.002
        while not await self.take(lease, lease_s):
            if loop.time() >= deadline:
                raise ConversationBusy(f"conversation {conversation!r} stayed busy for "
                                       f"{wait_s:g} s")
            await asyncio.sleep(min(pause, max(0.0, deadline - loop.time())))
            pause = min(pause * 2, 0.05)  # a waiting turn notices a release within 50 ms
        renewal = asyncio.create_task(self._keep(lease, lease_s))
        try:
            yield lease
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            if not lease.released:
                try:
                    await self.release(conversation, token)
                except self.unavailable:  # the lease frees it once the store is back
                    log.warning("could not release the lock of %s", conversation,
                                exc_info=True)

    async def _keep(self, lease: Lease, lease_s: float) -> None:
        conversation = lease.conversation
        while True:
            await asyncio.sleep(lease_s / 3)
            if lease.released:
                return
            try:
                if not await self.renew(conversation, lease.token, lease_s):
                    log.error("lost the lock of %s: its lease ran out mid-turn", conversation)
                    return
            except self.unavailable:
                log.warning("could not renew the lock of %s", conversation, exc_info=True)

    # -- de-duplication ---------------------------------------------------------------------

    @abstractmethod
    async def claim(self, conversation: str, event_id: str, ttl_s: float) -> bool:
        """Claim an inbound event, so a platform's retry of it is dropped.

        Args:
            conversation: the conversation key (its claims are erased with it).
            event_id: the platform's id of the event.
            ttl_s: how long the claim is remembered.

        Returns:
            True the first time within `ttl_s`; False for a repeat.
        """

    # -- rate limits ------------------------------------------------------------------------

    async def allow(self, limits: Mapping[str, int], window_s: float) -> bool:
        """Count one message against each key and say whether every count is within its limit.

        Fixed windows on the store's own counters (`incr`): every backend, SQLite included,
        counts alike, and the counter of a conversation is erased with it.

        Args:
            limits: messages allowed per window, by what is limited, e.g.
                {'user:slack:U123': 20, 'conversation:slack:T1:C2:17.1': 20}.
            window_s: the window's length; it starts with the first message counted.
        """
        counts = await self._count([f"rate:{key}" for key in limits], window_s)
        return all(count <= limit for count, limit in zip(counts, limits.values(), strict=True))

    async def _count(self, keys: Sequence[str], ttl_s: float) -> list[int]:
        """`incr` each key; backends that can, in one round trip."""
        return [await self.incr(key, ttl_s) for key in keys]

    # -- shared state (agents.shared.SharedState) ------------------------------------------

    @abstractmethod
    async def incr(self, key: str, ttl_s: float) -> int:
        """Add one to the counter at `key`; a new counter starts at 1 and expires `ttl_s`
        later (increments keep that expiry)."""

    @abstractmethod
    async def get(self, key: str) -> str | None:
        """The value at `key`, or None if it is unset or expired."""

    @abstractmethod
    async def put(self, key: str, value: str, ttl_s: float, *, only_new: bool = False) -> bool:
        """Set `key` for `ttl_s` seconds; with `only_new`, only if it is unset.

        Returns:
            Whether the value was written.
        """

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Unset `key`; unknown keys are ignored."""

    # -- upkeep -----------------------------------------------------------------------------

    async def record(self, turn: Turn, held: HeldWrites | None = None) -> None:
        """Append a finished turn (with its held checkpoint writes) and, every
        `PRUNE_EVERY`th turn of its conversation, drop the conversation's superseded
        checkpoints: storage per conversation stays bounded by its transcript, whichever
        conversations take turns in between."""
        if await self.append(turn, held) % PRUNE_EVERY == 0:
            try:
                await self.checkpointer.aprune([turn.key])
            except self.unavailable:  # upkeep: the next prune catches up
                log.warning("pruning %s failed", turn.key, exc_info=True)

    async def delete_conversation(self, conversation: str) -> None:
        """Erase a conversation everywhere: checkpoints, transcript with feedback, event claims
        and its rate counter (a data-deletion request). Unknown conversations are ignored."""
        await self.checkpointer.adelete_thread(conversation)
        await self._delete_records(conversation)
        await self.delete(f"rate:conversation:{conversation}")

    @abstractmethod
    async def _delete_records(self, conversation: str) -> None:
        """Erase the conversation's transcript, feedback and claims."""
