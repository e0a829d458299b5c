"""The one entry point every channel calls: `Bot.handle(message)` → reply.

A bot is opened for the life of a process (`async with Bot.open(config) as bot:`): that
loads the knowledge index (building it if missing or stale), builds the model chain and
opens memory. Turns of one conversation run one at a time; different conversations run
concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from langchain_core.runnables import RunnableConfig

from parley_bot.agents import safelog
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.graph import TurnGraph, build_graph
from parley_bot.agents.memory import Memory, open_memory
from parley_bot.agents.models import Responder, build_responders
from parley_bot.agents.privacy import Redactor
from parley_bot.agents.shared import InMemoryShared, SharedState
from parley_bot.agents.state import TurnState
from parley_bot.agents.telemetry import TurnTelemetry, store_failed
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import (
    InboundMessage,
    OutboundMessage,
    StreamChunk,
    StreamReset,
    Turn,
)
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.languages import language_of
from parley_bot.knowledge.store import KnowledgeStore

log = logging.getLogger("parley.bot")


class Bot:
    """A configured bot with its knowledge, models and memory open."""

    def __init__(self, config: FlowsConfig, graph: TurnGraph, memory: Memory,
                 redactor: Redactor | None = None) -> None:
        self.config = config
        self._graph = graph
        self._memory = memory
        self._redactor = redactor if config.privacy.transcript == "redacted" else None
        # Held only while a turn runs, so idle conversations cost nothing.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        config: FlowsConfig,
        *,
        knowledge: KnowledgeStore | None = None,
        responders: list[Responder] | None = None,
        shared: SharedState | None = None,
    ) -> AsyncIterator[Bot]:
        """Open a bot for the life of the block.

        Args:
            config: the validated flows.yaml.
            knowledge: a store to use instead of the embedded index (tests, external stores).
            responders: models to use instead of those configured (benchmarks, tests).
            shared: state shared with the bot's other processes (the models' circuit
                breakers); one process's own by default.

        Log records are redacted as `config.privacy` says from here on (`agents.safelog`).
        """
        redactor = Redactor.from_config(config.privacy)
        safelog.redact_with(redactor)
        if knowledge is None:  # parsing, fetching and embedding: off the event loop
            knowledge = await asyncio.to_thread(Ingestor(config.knowledge, config.root).open)
        if responders is None:
            responders = build_responders(config.models)
        async with open_memory(config) as memory:
            graph = build_graph(config, knowledge, responders, memory.checkpointer,
                                shared if shared is not None else InMemoryShared(), redactor)
            yield cls(config, graph, memory, redactor)

    async def handle(self, message: InboundMessage) -> OutboundMessage:
        """Run one turn and return the reply (also stored in the transcript)."""
        reply: OutboundMessage | None = None
        async for item in self.stream(message):
            if isinstance(item, OutboundMessage):
                reply = item
        assert reply is not None, "a turn always ends with a reply"
        return reply

    async def stream(
        self, message: InboundMessage
    ) -> AsyncIterator[StreamChunk | StreamReset | OutboundMessage]:
        """Run one turn, yielding reply text as it is generated, then the final reply.

        Chunks are provisional: if a model fails mid-answer, a `StreamReset` says to drop
        what was shown, the fallback answer's chunks follow, and the final `OutboundMessage`
        is what counts.
        """
        turn_input: TurnState = {
            "inbound": message, "skill": None, "passages": [], "draft": None, "reply": None,
        }
        reply: OutboundMessage | None = None
        failed = False
        lock = self._locks.get(message.conversation_id)
        if lock is None:
            lock = self._locks[message.conversation_id] = asyncio.Lock()
        async with lock:
            log.debug("turn (conversation=%s event=%s): %s",
                      message.conversation_id, message.event_id, message.text)
            with TurnTelemetry(message) as telemetry:
                config: RunnableConfig = {"configurable": {"thread_id": message.conversation_id},
                                          "callbacks": telemetry.callbacks}
                started = time.perf_counter()
                try:
                    async for mode, data in self._graph.astream(
                        turn_input, config, stream_mode=["custom", "values"], durability="exit"
                    ):
                        if mode == "custom":
                            yield cast(StreamChunk | StreamReset, data)
                        else:
                            reply = cast(dict[str, Any], data).get("reply")
                    if reply is None:
                        raise RuntimeError("the turn graph ended without a reply")
                except Exception:
                    # The user is told, and the next turn starts from the last good state.
                    log.exception("turn failed (conversation=%s event=%s)",
                                  message.conversation_id, message.event_id)
                    failed = True
                    reply = OutboundMessage(
                        conversation_id=message.conversation_id, fallback=True,
                        text=localize(self.config.error_answer, language_of(message.text)))
                seconds = time.perf_counter() - started
                await self._record(message, reply, seconds)
                telemetry.answered(reply, seconds, failed=failed)
        yield reply

    async def _record(
        self, message: InboundMessage, reply: OutboundMessage, seconds: float
    ) -> None:
        """Append the turn to the transcript, redacted unless `privacy.transcript` is
        'original'."""
        turn = Turn(
            conversation_id=message.conversation_id, user_text=message.text,
            reply=reply.text, citations=reply.citations, skill=reply.skill,
            usage=reply.usage, fallback=reply.fallback, latency_ms=seconds * 1000,
            at=message.received_at,
        )
        try:
            await self._memory.transcript.append(
                self._redactor.turn(turn) if self._redactor else turn)
            await self._memory.end_turn(message.conversation_id)
        except Exception:  # the user still gets the reply; the gap is in the log
            store_failed("save_turn")
            log.exception("saving the turn failed (conversation=%s event=%s)",
                          message.conversation_id, message.event_id)

    async def conversation(self, conversation_id: str) -> list[Turn]:
        """Every turn of a conversation, oldest first."""
        return await self._memory.transcript.turns(conversation_id)
