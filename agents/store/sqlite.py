"""The SQLite store: one local file, the embedded default, shared by any number of processes.

Checkpoints live in langgraph-checkpoint-sqlite's tables, parley's own records beside them
in the same file. Everything several processes must agree on (a conversation's lock, event
claims, counters) is a single atomic statement, an upsert whose condition decides who wins,
so it holds across processes without a transaction spanning awaits; SQLite serializes
writers, and a writer waits up to `BUSY_TIMEOUT_S` for the file. Expiry uses the wall
clock, which every process on one machine shares.

aiosqlite runs each call (execute, fetch, commit) as its own hop to the connection's
thread. A hop costs far more than the SQL: the thread waits for the GIL, up to Python's
5 ms switch interval while the event loop is busy, and one connection serves every turn of
the process, so under load the hops, not the SQL, bounded a worker's turns per second. Each
operation on a turn's path (`PrunedSqliteSaver.run`, `aget_tuple`) is therefore one plain
`sqlite3` function and one transaction, run on the event loop at once (tens of
microseconds in WAL mode, where readers never wait) with SQLite's busy wait off; only if
another process holds the write lock does it go to the connection's thread, to wait there
for up to `BUSY_TIMEOUT_S` without blocking the loop.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, CheckpointTuple, get_checkpoint_metadata
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from parley_bot.agents.errors import StoreUnavailable
from parley_bot.agents.store.base import (
    PRUNE_EVERY,
    HeldWrites,
    HoldsTurnWrites,
    Store,
    serializer,
)
from parley_bot.channels.messages import Feedback, Turn

BUSY_TIMEOUT_S = 10.0
T = TypeVar("T")

_DELETE = "DELETE FROM {table} WHERE thread_id = ?"
_KEEP_LATEST = (
    "DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < ("
    " SELECT MAX(c.checkpoint_id) FROM checkpoints AS c"
    " WHERE c.thread_id = {table}.thread_id AND c.checkpoint_ns = {table}.checkpoint_ns)"
)


# The statements of AsyncSqliteSaver.aput and aput_writes, run here inside a transaction that
# also records the turn (theirs commit on their own).
_PUT_CHECKPOINT = (
    "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id,"
    " parent_checkpoint_id, type, checkpoint, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_PUT_WRITE = (
    "INSERT OR {verb} INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path,"
    " idx, channel, type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class PrunedSqliteSaver(HoldsTurnWrites, AsyncSqliteSaver):
    """`AsyncSqliteSaver` with `aprune`, which langgraph-checkpoint-sqlite leaves unimplemented,
    and writes held back during a turn (`Store.holding`).

    parley's graph has no `DeltaChannel`, so every checkpoint is whole and "keep_latest" may
    drop all older checkpoints and their writes.
    """

    _sync: SqliteSaver | None = None

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` as one transaction (committed, or rolled back if it raises: a
        full disk must not leave a transaction open for the next statement), under the
        saver's lock; on the event loop unless the file is busy (see the module)."""
        async with self.lock:
            return await _call(self.conn, _in_transaction, work, self.conn._conn)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """`AsyncSqliteSaver.aget_tuple` as one call: the same queries, by the sync saver of
        the same package on the same connection."""
        await self.setup()
        if self._sync is None:
            self._sync = SqliteSaver(self.conn._conn, serde=self.serde)
        async with self.lock:
            return await _call(self.conn, self._sync.get_tuple, config)

    def store_held(self, conn: sqlite3.Connection, held: HeldWrites) -> None:
        """Store a turn's held writes on `conn`, inside the caller's transaction."""
        for config, checkpoint, metadata, _ in held.puts:
            configurable = config["configurable"]
            meta = json.dumps(get_checkpoint_metadata(config, metadata), ensure_ascii=False)
            conn.execute(_PUT_CHECKPOINT, (
                str(configurable["thread_id"]), configurable.get("checkpoint_ns", ""),
                checkpoint["id"], configurable.get("checkpoint_id"),
                *self.serde.dumps_typed(checkpoint), meta.encode("utf-8", "ignore")))
        for config, writes, task_id, task_path in held.writes:
            configurable = config["configurable"]
            special = all(channel in WRITES_IDX_MAP for channel, _ in writes)
            conn.executemany(_PUT_WRITE.format(verb="REPLACE" if special else "IGNORE"), [
                (str(configurable["thread_id"]), configurable.get("checkpoint_ns", ""),
                 str(configurable["checkpoint_id"]), task_id, task_path,
                 WRITES_IDX_MAP.get(channel, idx), channel, *self.serde.dumps_typed(value))
                for idx, (channel, value) in enumerate(writes)])

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only each thread's latest checkpoint per namespace ("keep_latest"), or none
        ("delete")."""
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"unknown prune strategy {strategy!r}")
        query = _DELETE if strategy == "delete" else _KEEP_LATEST
        await self.setup()
        async with self.transaction() as conn:
            for thread_id in thread_ids:
                for table in ("writes", "checkpoints"):
                    await conn.execute(query.format(table=table), (str(thread_id),))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:  # off the turn's path
        """The connection for one transaction: committed after the block, rolled back if it
        fails (a full disk must not leave a transaction open for the next statement)."""
        async with self.lock:
            try:
                yield self.conn
                await self.conn.commit()
            except BaseException:
                await self.conn.rollback()
                raise


_SCHEMA = """
CREATE TABLE IF NOT EXISTS parley_transcript (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    turn TEXT NOT NULL,
    feedback TEXT
);
CREATE INDEX IF NOT EXISTS parley_transcript_conversation
    ON parley_transcript (conversation, seq);
CREATE TABLE IF NOT EXISTS parley_shared (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS parley_claims (
    conversation TEXT NOT NULL, event_id TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (conversation, event_id)
);
CREATE TABLE IF NOT EXISTS parley_locks (
    conversation TEXT PRIMARY KEY, token TEXT NOT NULL, expires REAL NOT NULL
);
"""

_PAGE = """
SELECT turn, feedback FROM parley_transcript
WHERE conversation = ? AND seq < COALESCE(
    (SELECT seq FROM parley_transcript WHERE conversation = ? AND id = ?), ?)
ORDER BY seq DESC LIMIT ?
"""
# A lock is taken when it is free, expired, or already this token's.
_ACQUIRE = """
INSERT INTO parley_locks (conversation, token, expires) VALUES (?, ?, ?)
ON CONFLICT (conversation) DO UPDATE SET token = excluded.token, expires = excluded.expires
WHERE parley_locks.expires <= ? OR parley_locks.token = excluded.token
"""
_CLAIM = """
INSERT INTO parley_claims (conversation, event_id, expires) VALUES (?, ?, ?)
ON CONFLICT (conversation, event_id) DO UPDATE SET expires = excluded.expires
WHERE parley_claims.expires <= ?
"""
# A live counter counts on within its window; an expired one starts again at 1.
_INCR = """
INSERT INTO parley_shared (key, value, expires) VALUES (?, '1', ?)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires > ? THEN CAST(value AS INTEGER) + 1 ELSE 1 END,
    expires = CASE WHEN expires > ? THEN expires ELSE excluded.expires END
RETURNING value
"""
_PUT = """
INSERT INTO parley_shared (key, value, expires) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
"""


class SqliteStore(Store):
    """The contract on one SQLite file (WAL mode), safe for several processes."""

    unavailable: ClassVar[tuple[type[Exception], ...]] = (StoreUnavailable,
                                                          sqlite3.OperationalError)

    def __init__(self, saver: PrunedSqliteSaver) -> None:
        self.checkpointer = saver
        self._saver = saver

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[SqliteStore]:
        """Open (creating if needed) the store at `path` for the life of the block."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # Used from the event loop too (`_call`), one operation at a time (the saver's lock).
        async with aiosqlite.connect(path, timeout=BUSY_TIMEOUT_S,
                                     check_same_thread=False) as conn:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            saver = PrunedSqliteSaver(conn, serde=serializer())
            await saver.setup()
            await conn.executescript(_SCHEMA)
            await conn.commit()
            yield cls(saver)

    @property
    def conn(self) -> aiosqlite.Connection:
        """The connection, shared with the checkpointer (whose lock guards it)."""
        return self._saver.conn

    async def _write(self, sql: str, *params: Any) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""
        return await self._saver.run(lambda conn: conn.execute(sql, params).rowcount)

    async def _read(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return await self._saver.run(lambda conn: conn.execute(sql, params).fetchall())

    async def append(self, turn: Turn, held: HeldWrites | None = None) -> int:
        record = turn.model_dump_json(exclude={"feedback"})

        def append(conn: sqlite3.Connection) -> int:
            if held is not None:
                self._saver.store_held(conn, held)
            conn.execute(
                "INSERT INTO parley_transcript (conversation, id, turn) VALUES (?, ?, ?)",
                (turn.key, turn.id, record))
            row = conn.execute("SELECT COUNT(*) FROM parley_transcript WHERE conversation = ?",
                               (turn.key,)).fetchone()
            count = int(row[0]) if row else 0
            if count % PRUNE_EVERY == 0:  # expired counters and claims go now and then
                for table in ("parley_shared", "parley_claims"):
                    conn.execute(f"DELETE FROM {table} WHERE expires <= ?", (time.time(),))
            return count

        return await self._saver.run(append)

    async def turns(
        self, conversation: str, *, limit: int | None = None, before: str | None = None
    ) -> list[Turn]:
        end = None if before is not None else 2**62  # an unknown `before` matches nothing
        rows = await self._read(_PAGE, conversation, conversation, before, end,
                                -1 if limit is None else limit)
        return [_turn(turn, feedback) for turn, feedback in reversed(rows)]

    async def feedback(self, conversation: str, turn_id: str, feedback: Feedback) -> bool:
        changed = await self._write(
            "UPDATE parley_transcript SET feedback = ? WHERE conversation = ? AND id = ?",
            feedback.model_dump_json(), conversation, turn_id)
        return changed == 1

    async def acquire(self, conversation: str, token: str, lease_s: float) -> bool:
        now = time.time()
        return await self._write(_ACQUIRE, conversation, token, now + lease_s, now) == 1

    async def renew(self, conversation: str, token: str, lease_s: float) -> bool:
        changed = await self._write(
            "UPDATE parley_locks SET expires = ? WHERE conversation = ? AND token = ?",
            time.time() + lease_s, conversation, token)
        return changed == 1

    async def release(self, conversation: str, token: str) -> None:
        await self._write("DELETE FROM parley_locks WHERE conversation = ? AND token = ?",
                          conversation, token)

    async def claim(self, conversation: str, event_id: str, ttl_s: float) -> bool:
        now = time.time()
        return await self._write(_CLAIM, conversation, event_id, now + ttl_s, now) == 1

    async def incr(self, key: str, ttl_s: float) -> int:
        return (await self._count([key], ttl_s))[0]

    async def _count(self, keys: Sequence[str], ttl_s: float) -> list[int]:
        """Every key's `incr` in one transaction."""
        now = time.time()

        def count(conn: sqlite3.Connection) -> list[int]:
            rows = [conn.execute(_INCR, (key, now + ttl_s, now, now)).fetchone() for key in keys]
            assert all(rows), "an upsert with RETURNING returns its row"
            return [int(row[0]) for row in rows]

        return await self._saver.run(count)

    async def get(self, key: str) -> str | None:
        rows = await self._read("SELECT value FROM parley_shared WHERE key = ? AND expires > ?",
                                key, time.time())
        return str(rows[0][0]) if rows else None

    async def put(self, key: str, value: str, ttl_s: float, *, only_new: bool = False) -> bool:
        now = time.time()
        if only_new:
            sql = _PUT + " WHERE parley_shared.expires <= ?"
            return await self._write(sql, key, value, now + ttl_s, now) == 1
        return await self._write(_PUT, key, value, now + ttl_s) == 1

    async def delete(self, key: str) -> None:
        await self._write("DELETE FROM parley_shared WHERE key = ?", key)

    async def _delete_records(self, conversation: str) -> None:
        async with self._saver.transaction() as conn:
            for table in ("parley_transcript", "parley_claims"):
                await conn.execute(f"DELETE FROM {table} WHERE conversation = ?", (conversation,))


async def _call(conn: aiosqlite.Connection, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on `conn`'s `sqlite3` connection: here, with SQLite's busy wait
    off; if another process holds the file, in the connection's thread, waiting as long as
    the connection's timeout allows. aiosqlite has no public call for the latter:
    `_execute` queues a function for its thread."""
    raw = conn._conn
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        return function(*args)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return await conn._execute(function, *args)  # type: ignore[no-any-return,no-untyped-call]


def _in_transaction(work: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
    try:
        result = work(conn)
        conn.commit()
        return result
    except BaseException:
        conn.rollback()
        raise


def _turn(turn: str, feedback: str | None) -> Turn:
    stored = Turn.model_validate_json(turn)
    if feedback is None:
        return stored
    return stored.model_copy(update={"feedback": Feedback.model_validate_json(feedback)})
