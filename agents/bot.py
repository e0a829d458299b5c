"""The one entry point every channel calls: `Bot.handle(message)` → reply.

A bot is opened for the life of a process (`async with Bot.open(config) as bot:`): that
loads the knowledge index (building it if missing or stale), builds the model chain and
opens the store. The bot keeps no shared state of its own: a conversation's lock, rate
counters and memory are all in the store, so any number of processes can serve one bot and
a conversation's turns still run one at a time, in every process.

When the store cannot be reached or written, or the conversation stays busy, the user is
asked to try again (`texts.unavailable`) and nothing of the turn is kept: the checkpoint
the turn graph writes is held back and stored with the turn's record, in one transaction.

`Bot.reload` swaps in a new version (config, knowledge, router, tools, graph: one `Loaded`)
while the bot runs; a turn uses the version it started with, and the store is untouched, so
no conversation is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig

from parley_bot.agents import safelog
from parley_bot.agents.agent import tool_count_key
from parley_bot.agents.attachments import documents_key
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.errors import StoreError, StoreUnavailable
from parley_bot.agents.graph import TurnGraph, build_graph
from parley_bot.agents.models import Responder, build_responders, chat_model
from parley_bot.agents.privacy import Redactor
from parley_bot.agents.promptlog import PromptLog
from parley_bot.agents.router import SkillRouter
from parley_bot.agents.state import TurnState
from parley_bot.agents.store import Store, open_store
from parley_bot.agents.telemetry import TurnTelemetry, store_failed
from parley_bot.agents.texts import LocalText, localize
from parley_bot.channels.messages import (
    Feedback,
    InboundMessage,
    OutboundMessage,
    StreamChunk,
    StreamReset,
    Turn,
    new_turn_id,
)
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.knowledge.languages import language_of
from parley_bot.knowledge.store import KnowledgeStore
from parley_bot.tools.registry import ToolRegistry

CLAIM_TTL_S = 24 * 3600
"""How long an event id is remembered: longer than any platform retries a delivery."""

log = logging.getLogger("parley.bot")


@dataclass(frozen=True)
class Loaded:
    """One version of a bot, replaced whole by a reload."""

    config: FlowsConfig
    graph: TurnGraph
    redactor: Redactor | None
    """For the transcript, unless `privacy.transcript` is 'original'."""
    prompt_redactor: Redactor | None
    """For the prompt log."""


@dataclass
class _Queue:
    """The turns of one conversation waiting in this process, and how many there are."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Bot:
    """A configured bot with its knowledge, models and store open."""

    def __init__(self, loaded: Loaded, store: Store,
                 responders: list[Responder] | None = None,
                 tools: ToolRegistry | None = None) -> None:
        self.store = store
        self._loaded = loaded
        self._responders = responders  # given by the caller: kept across reloads
        self._tools = tools
        self._store_down: tuple[type[Exception], ...] = (StoreError, *store.unavailable)
        self._queues: dict[str, _Queue] = {}

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
        store: Store | None = None,
        knowledge: KnowledgeStore | None = None,
        responders: list[Responder] | None = None,
        tools: ToolRegistry | None = None,
    ) -> AsyncIterator[Bot]:
        """Open a bot for the life of the block.

        Args:
            config: the validated flows.yaml.
            store: a store to use instead of the one `memory:` names (tests, benchmarks).
            knowledge: a store to use instead of the embedded index (tests, external stores).
            responders: models to use instead of those configured (benchmarks, tests).
            tools: the tool registry to use instead of the configured tools (an eval's
                canned results).

        Log records are redacted as `config.privacy` says from here on (`agents.safelog`).
        """
        if store is not None:
            yield cls(await _load(config, store, knowledge, responders, tools), store,
                      responders, tools)
            return
        async with open_store(config) as opened:
            yield cls(await _load(config, opened, knowledge, responders, tools), opened,
                      responders, tools)

    async def reload(self, config: FlowsConfig, knowledge: KnowledgeStore | None = None) -> None:
        """Swap in `config` (and its knowledge index, re-opened unless given) for the next
        turns. Anything that fails here leaves the running version in place.

        Raises:
            ParleyError: the new version cannot be set up (a model, the index).
        """
        self._loaded = await _load(config, self.store, knowledge, self._responders, self._tools)

    async def handle(self, message: InboundMessage) -> OutboundMessage:
        """Run one turn and return the reply (also stored in the transcript). A message over
        a rate limit, or one that finds the store down, gets a declined reply and leaves
        nothing stored."""
        reply: OutboundMessage | None = None
        async for item in self._turn(message, chunks=False):
            reply = cast(OutboundMessage, item)
        assert reply is not None, "a turn always ends with a reply"
        return reply

    async def stream(
        self, message: InboundMessage
    ) -> AsyncIterator[StreamChunk | StreamReset | OutboundMessage]:
        """Run one turn as `handle` does, yielding reply text as it is generated, then the
        final reply.

        Chunks are provisional: if a model fails mid-answer, a `StreamReset` says to drop
        what was shown, the fallback answer's chunks follow, and the final `OutboundMessage`
        is what counts.
        """
        async for item in self._turn(message, chunks=True):
            yield item

    async def _turn(
        self, message: InboundMessage, *, chunks: bool
    ) -> AsyncIterator[StreamChunk | StreamReset | OutboundMessage]:
        loaded = self._loaded  # the whole turn runs on one version, whatever reloads meanwhile
        reply: OutboundMessage | None = None
        try:
            if not await self._within_limits(message):
                yield self._declined(message, "rate_limited", self.config.texts.rate_limited)
                return
            async with self._in_order(message.key), self.store.lock(message.key) as lease:
                log.debug("turn (conversation=%s event=%s): %s",
                          message.key, message.event_id, message.text)
                turn_id = new_turn_id()
                started = time.perf_counter()
                failed = False
                with TurnTelemetry(message) as telemetry:
                    with self.store.holding(message.key, lease) as held:  # stored with the turn
                        try:
                            async for item in self._run(loaded, message, turn_id,
                                                        chunks, telemetry.callbacks):
                                if isinstance(item, OutboundMessage):
                                    reply = item
                                else:
                                    yield item
                        except self._store_down:
                            raise
                        except Exception:  # the next turn starts from the last good state
                            log.exception("turn failed (conversation=%s event=%s)",
                                          message.key, message.event_id)
                            failed = True
                            reply = OutboundMessage(
                                conversation_id=message.conversation_id, fallback=True,
                                text=localize(loaded.config.error_answer,
                                              language_of(message.text)))
                    assert reply is not None
                    seconds = time.perf_counter() - started
                    turn = Turn(
                        id=turn_id, channel=message.channel,
                        conversation_id=message.conversation_id, user_text=message.text,
                        user_name=message.user_name, reply=reply.text,
                        citations=reply.citations, skill=reply.skill,
                        usage=reply.usage, fallback=reply.fallback, latency_ms=seconds * 1000,
                        at=message.received_at,
                    )  # redacted unless `privacy.transcript` is 'original'
                    redactor = loaded.redactor
                    await self.store.record(redactor.turn(turn) if redactor else turn, held)
                    telemetry.answered(reply, seconds, failed=failed)
        except self._store_down:
            store_failed("turn")
            log.exception("the store cannot take the turn (conversation=%s event=%s)",
                          message.key, message.event_id)
            yield self._declined(message, "unavailable", self.config.texts.unavailable)
            return
        yield reply.model_copy(update={"turn_id": turn_id})

    async def _run(
        self, loaded: Loaded, message: InboundMessage, turn_id: str, chunks: bool,
        callbacks: list[BaseCallbackHandler],
    ) -> AsyncIterator[StreamChunk | StreamReset | OutboundMessage]:
        """The turn graph, streaming the reply's text when `chunks`; `callbacks` observe
        its nodes (tracing), and the prompt log its model calls when it is on."""
        logged = loaded.config.log_prompts
        if logged.enabled:  # prompt baking
            callbacks = [*callbacks, PromptLog(loaded.config.path(logged.path), message.key,
                                               turn_id, loaded.prompt_redactor)]
        config: RunnableConfig = {"configurable": {"thread_id": message.key},
                                  "metadata": {"parley_turn": turn_id}, "callbacks": callbacks}
        turn_input: TurnState = {
            "inbound": message, "skill": None, "passages": [], "draft": None, "reply": None,
        }
        reply: OutboundMessage | None = None
        async for mode, data in loaded.graph.astream(
            turn_input, config, durability="exit",
            stream_mode=["custom", "values"] if chunks else ["values"],
        ):
            if mode == "custom":
                yield cast(StreamChunk | StreamReset, data)
            else:
                reply = cast(dict[str, Any], data).get("reply")
        if reply is None:
            raise RuntimeError("the turn graph ended without a reply")
        yield reply

    @asynccontextmanager
    async def _in_order(self, key: str) -> AsyncIterator[None]:
        """Hold the conversation's place in this process's queue: its turns take the store's
        lock one by one, in the order they arrived (`asyncio.Lock` wakes waiters first come,
        first served; the store's lock, shared by processes, promises no order)."""
        queue = self._queues.setdefault(key, _Queue())
        queue.users += 1
        try:
            async with queue.lock:
                yield
        finally:
            queue.users -= 1
            if not queue.users:
                del self._queues[key]

    async def _within_limits(self, message: InboundMessage) -> bool:
        if message.channel == "terminal":  # the operator at the keyboard, or a piped file
            return True
        limits = self.config.guard.rate_limit
        return await self.store.allow({f"user:{message.channel}:{message.user_id}":
                                       limits.per_user,
                                       f"conversation:{message.key}": limits.per_conversation},
                                      limits.window_s)

    def _declined(
        self, message: InboundMessage, why: Literal["rate_limited", "unavailable"],
        text: LocalText,
    ) -> OutboundMessage:
        return OutboundMessage(conversation_id=message.conversation_id,
                               text=localize(text, language_of(message.text)),
                               declined=why)

    # The store's errors below are raised as StoreUnavailable, for callers that know no backend.

    async def claim(self, message: InboundMessage) -> bool:
        """Whether this is the first delivery of the message's event (a message without an
        event id always is). Adapters call it before taking a platform's event, so retries
        are dropped in every process."""
        if message.event_id is None:
            return True
        with self._store_errors("claim"):
            return await self.store.claim(message.key, message.event_id, CLAIM_TTL_S)

    async def conversation(
        self, key: str, *, limit: int | None = None, before: str | None = None
    ) -> list[Turn]:
        """A page of a conversation's turns, oldest first (see `Store.turns`)."""
        with self._store_errors("read"):
            return await self.store.turns(key, limit=limit, before=before)

    async def feedback(self, key: str, turn_id: str, feedback: Feedback) -> bool:
        """Attach feedback to a turn; False if the conversation has no such turn."""
        with self._store_errors("feedback"):
            return await self.store.feedback(key, turn_id, feedback)

    async def forget(self, key: str) -> None:
        """Erase a conversation everywhere, after any turn of it that is running, with the
        documents its user sent and its skills' counts of tool calls."""
        with self._store_errors("delete"):
            async with self.store.lock(key):
                await self.store.delete_conversation(key)
                await self.store.delete(documents_key(key))
                for skill in self.config.skills:
                    await self.store.delete(tool_count_key(key, skill.name))

    @contextmanager
    def _store_errors(self, operation: str) -> Iterator[None]:
        """Store failures of `operation` as `StoreUnavailable`, counted in the metrics."""
        try:
            yield
        except StoreError:
            store_failed(operation)
            raise
        except self.store.unavailable as exc:
            store_failed(operation)
            raise StoreUnavailable(f"the store is unavailable: {exc}") from exc


async def _load(config: FlowsConfig, store: Store, knowledge: KnowledgeStore | None,
                responders: list[Responder] | None, tools: ToolRegistry | None) -> Loaded:
    """Build one version of the bot: index, models, router, tools and the graph over them,
    on `store`. Log records are redacted as its `config.privacy` says from here on
    (`agents.safelog`)."""
    redactor = Redactor.from_config(config.privacy)
    if knowledge is None:  # parsing, fetching and embedding: off the event loop
        knowledge = await asyncio.to_thread(Ingestor(config.knowledge, config.root).open)
    if responders is None:
        responders = build_responders(config.models)
    spec = config.router.model
    decider = chat_model(spec) if spec is not None else None
    hide = redactor if spec is not None and not spec.private else None
    router = await asyncio.to_thread(SkillRouter, config.skills, config.router, decider, hide)
    graph = build_graph(config, knowledge, responders, store.checkpointer, router,
                        tools or ToolRegistry.for_bot(config), store, redactor)
    safelog.redact_with(redactor)
    transcript = redactor if config.privacy.transcript == "redacted" else None
    return Loaded(config, graph, transcript, redactor)
