"""The one entry point every channel calls: `Bot.handle(message)` → reply.

A bot is opened for the life of a process (`async with Bot.open(config) as bot:`): that
loads the knowledge index (building it if missing or stale), builds the model chain, fits the
router and opens memory. Turns of one conversation run one at a time; different conversations
run concurrently.

`Bot.reload` swaps in a new version (config, knowledge, router, tools, graph: one `Loaded`)
while the bot runs; a turn uses the version it started with, and memory is untouched, so no
conversation is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.runnables import RunnableConfig

from parley_bot.agents import safelog
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.graph import TurnGraph, build_graph
from parley_bot.agents.memory import Memory, open_memory
from parley_bot.agents.models import Responder, build_responders, chat_model
from parley_bot.agents.privacy import Redactor
from parley_bot.agents.router import SkillRouter
from parley_bot.agents.state import TurnState
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import InboundMessage, OutboundMessage, StreamChunk, Turn
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.store import KnowledgeStore
from parley_bot.tools.registry import ToolRegistry

log = logging.getLogger("parley.bot")


@dataclass(frozen=True)
class Loaded:
    """One version of a bot, replaced whole by a reload."""

    config: FlowsConfig
    graph: TurnGraph
    redactor: Redactor | None
    """For the transcript, unless `privacy.transcript` is 'original'."""


class Bot:
    """A configured bot with its knowledge, models and memory open."""

    def __init__(self, loaded: Loaded, memory: Memory,
                 responders: list[Responder] | None = None) -> None:
        self._loaded = loaded
        self._memory = memory
        self._responders = responders  # given by the caller: kept across reloads
        # Held only while a turn runs, so idle conversations cost nothing.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def config(self) -> FlowsConfig:
        return self._loaded.config

    @property
    def _graph(self) -> TurnGraph:
        return self._loaded.graph

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        config: FlowsConfig,
        *,
        knowledge: KnowledgeStore | None = None,
        responders: list[Responder] | None = None,
    ) -> AsyncIterator[Bot]:
        """Open a bot for the life of the block.

        Args:
            config: the validated flows.yaml.
            knowledge: a store to use instead of the embedded index (tests, external stores).
            responders: models to use instead of those configured (benchmarks, tests).

        Log records are redacted as `config.privacy` says from here on (`agents.safelog`).
        """
        async with open_memory(config) as memory:
            loaded = await _load(config, memory, knowledge, responders)
            yield cls(loaded, memory, responders)

    async def reload(self, config: FlowsConfig, knowledge: KnowledgeStore | None = None) -> None:
        """Swap in `config` (and its knowledge index, re-opened unless given) for the next
        turns. Anything that fails here leaves the running version in place.

        Raises:
            ParleyError: the new version cannot be set up (a model, the index).
        """
        self._loaded = await _load(config, self._memory, knowledge, self._responders)

    async def handle(self, message: InboundMessage) -> OutboundMessage:
        """Run one turn and return the reply (also stored in the transcript)."""
        reply: OutboundMessage | None = None
        async for item in self.stream(message):
            if isinstance(item, OutboundMessage):
                reply = item
        assert reply is not None, "a turn always ends with a reply"
        return reply

    async def stream(self, message: InboundMessage) -> AsyncIterator[StreamChunk | OutboundMessage]:
        """Run one turn, yielding reply text as it is generated, then the final reply.

        Chunks are provisional: if a model fails mid-answer, the fallback answer follows and
        the final `OutboundMessage` is what counts.
        """
        loaded = self._loaded  # the whole turn runs on one version, whatever reloads meanwhile
        config: RunnableConfig = {"configurable": {"thread_id": message.conversation_id}}
        turn_input: TurnState = {
            "inbound": message, "skill": None, "passages": [], "draft": None, "reply": None,
        }
        reply: OutboundMessage | None = None
        lock = self._locks.get(message.conversation_id)
        if lock is None:
            lock = self._locks[message.conversation_id] = asyncio.Lock()
        async with lock:
            log.debug("turn (conversation=%s event=%s): %s",
                      message.conversation_id, message.event_id, message.text)
            started = time.perf_counter()
            try:
                async for mode, data in loaded.graph.astream(
                    turn_input, config, stream_mode=["custom", "values"], durability="exit"
                ):
                    if mode == "custom":
                        yield cast(StreamChunk, data)
                    else:
                        reply = cast(dict[str, Any], data).get("reply")
                if reply is None:
                    raise RuntimeError("the turn graph ended without a reply")
            except Exception:
                # The user is told, and the next turn starts from the last good state.
                log.exception("turn failed (conversation=%s event=%s)",
                              message.conversation_id, message.event_id)
                reply = OutboundMessage(conversation_id=message.conversation_id,
                                        text=localize(loaded.config.error_answer),
                                        fallback=True)
            await self._record(message, reply, time.perf_counter() - started)
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
            redactor = self._loaded.redactor
            await self._memory.transcript.append(redactor.turn(turn) if redactor else turn)
            await self._memory.end_turn(message.conversation_id)
        except Exception:  # the user still gets the reply; the gap is in the log
            log.exception("saving the turn failed (conversation=%s event=%s)",
                          message.conversation_id, message.event_id)

    async def conversation(self, conversation_id: str) -> list[Turn]:
        """Every turn of a conversation, oldest first."""
        return await self._memory.transcript.turns(conversation_id)


async def _load(config: FlowsConfig, memory: Memory, knowledge: KnowledgeStore | None,
                responders: list[Responder] | None) -> Loaded:
    """Build one version of the bot: index, models, router, tools and the graph over them.
    Log records are redacted as its `config.privacy` says from here on (`agents.safelog`)."""
    redactor = Redactor.from_config(config.privacy)
    if knowledge is None:  # parsing, fetching and embedding: off the event loop
        knowledge = await asyncio.to_thread(Ingestor(config.knowledge, config.root).open)
    if responders is None:
        responders = build_responders(config.models)
    spec = config.router.model
    decider = chat_model(spec) if spec is not None else None
    hide = redactor if spec is not None and not spec.private else None
    router = await asyncio.to_thread(SkillRouter, config.skills, config.router, decider, hide)
    graph = build_graph(config, knowledge, responders, memory.checkpointer, router,
                        ToolRegistry.for_bot(config), redactor)
    safelog.redact_with(redactor)
    transcript = redactor if config.privacy.transcript == "redacted" else None
    return Loaded(config, graph, transcript)
