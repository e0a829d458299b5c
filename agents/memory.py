"""Conversation memory: a LangGraph checkpointer for the turn state, and a transcript of turns.

Both live in one store, so a second process (or a restarted one) sees the same
conversations. The checkpointer holds the bounded recent history the graph needs; the
transcript keeps every turn, append-only, for `GET /api/conversations/{id}`, evaluation and
exporting conversations as few-shot or fine-tuning data. Since the transcript has every
turn, a conversation needs only its latest checkpoint: older ones are pruned as turns go
by, so the store grows with the transcript, not with a checkpoint a turn.

    sqlite:PATH   one local file (default: .parley/memory.sqlite), WAL mode
    memory:       in this process only, never pruned (tests, benchmarks)
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from parley_bot.agents.config import FlowsConfig
from parley_bot.channels.messages import Turn


class Transcript(Protocol):
    """Append-only log of the turns of every conversation."""

    async def append(self, turn: Turn) -> None:
        """Store one finished turn."""
        ...

    async def turns(self, conversation_id: str) -> list[Turn]:
        """Every stored turn of a conversation, oldest first; empty if it is unknown."""
        ...


class InMemoryTranscript:
    """Transcript held in a dict; gone with the process."""

    def __init__(self) -> None:
        self._turns: dict[str, list[Turn]] = defaultdict(list)

    async def append(self, turn: Turn) -> None:
        self._turns[turn.conversation_id].append(turn)

    async def turns(self, conversation_id: str) -> list[Turn]:
        return list(self._turns.get(conversation_id, []))


class SqliteTranscript:
    """Transcript in the SQLite file that also holds the checkpoints."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def setup(self) -> None:
        await self._conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS parley_turns (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                conversation_id TEXT NOT NULL,
                turn TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS parley_turns_conversation
                ON parley_turns (conversation_id, id);
            """
        )
        await self._conn.commit()

    async def append(self, turn: Turn) -> None:
        await self._conn.execute(
            "INSERT INTO parley_turns (conversation_id, turn) VALUES (?, ?)",
            (turn.conversation_id, turn.model_dump_json()),
        )
        await self._conn.commit()

    async def turns(self, conversation_id: str) -> list[Turn]:
        async with self._conn.execute(
            "SELECT turn FROM parley_turns WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ) as cursor:
            return [Turn.model_validate_json(row[0]) async for row in cursor]


_DELETE = "DELETE FROM {table} WHERE thread_id = ?"
_KEEP_LATEST = (
    "DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < ("
    " SELECT MAX(c.checkpoint_id) FROM checkpoints AS c"
    " WHERE c.thread_id = {table}.thread_id AND c.checkpoint_ns = {table}.checkpoint_ns)"
)


class PrunedSqliteSaver(AsyncSqliteSaver):
    """`AsyncSqliteSaver` with `aprune`, which langgraph-checkpoint-sqlite leaves unimplemented.

    parley's graph has no `DeltaChannel`, so every checkpoint is whole and "keep_latest" may
    drop all older checkpoints and their writes.
    """

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only each thread's latest checkpoint per namespace ("keep_latest"), or none
        ("delete")."""
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"unknown prune strategy {strategy!r}")
        query = _DELETE if strategy == "delete" else _KEEP_LATEST
        async with self.lock:
            for thread_id in thread_ids:
                for table in ("writes", "checkpoints"):
                    await self.conn.execute(query.format(table=table), (str(thread_id),))
            await self.conn.commit()


PRUNE_EVERY = 16


@dataclass(frozen=True)
class Memory:
    """The store of one bot: graph checkpoints plus the transcript."""

    checkpointer: BaseCheckpointSaver[str]
    transcript: Transcript
    _turns: Iterator[int] = field(default_factory=itertools.count)

    async def end_turn(self, conversation_id: str) -> None:
        """Every `PRUNE_EVERY`th turn, drop the conversation's superseded checkpoints (the
        transcript keeps every turn). Pruning on every turn would add a delete and a commit
        to each; this way a conversation keeps about `PRUNE_EVERY` old checkpoints at most."""
        if next(self._turns) % PRUNE_EVERY == 0 and isinstance(self.checkpointer,
                                                               PrunedSqliteSaver):
            await self.checkpointer.aprune([conversation_id])


def serializer() -> JsonPlusSerializer:
    """The checkpoint serializer, strict: checkpoints hold only plain data (the history as
    text; the turn's own keys are never checkpointed), so no class may be rebuilt from one."""
    return JsonPlusSerializer(allowed_msgpack_modules=None)


@asynccontextmanager
async def open_memory(config: FlowsConfig) -> AsyncIterator[Memory]:
    """Open the memory store named by `config.memory.url` for the life of the block."""
    url = config.memory.url
    if url == "memory:":
        yield Memory(InMemorySaver(serde=serializer()), InMemoryTranscript())
        return
    path = config.path(Path(url.removeprefix("sqlite:")))
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(path) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = PrunedSqliteSaver(conn, serde=serializer())
        await saver.setup()
        transcript = SqliteTranscript(conn)
        await transcript.setup()
        yield Memory(saver, transcript)
