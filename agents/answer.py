"""The answer skill: retrieve passages, then generate a cited answer.

Generation tries each configured model in order and ends with the extractive responder, so
a dead or slow model costs the user quality, never the answer. Every failure is logged with
the conversation and event ids.
"""

from __future__ import annotations

import asyncio
import logging

from langgraph.config import get_stream_writer

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.extractive import ExtractiveResponder, knows_about
from parley_bot.agents.models import Generation, Prompt, Responder
from parley_bot.agents.prompt import Redact, build_messages
from parley_bot.agents.scope import out_of_scope_text
from parley_bot.agents.skills import AnswerSkill
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.channels.messages import Citation, StreamChunk
from parley_bot.knowledge.store import KnowledgeStore
from parley_bot.knowledge.types import Passage

log = logging.getLogger("parley.answer")



def retrieve_node(config: FlowsConfig, knowledge: KnowledgeStore) -> Node:
    """Build the retrieve node: the top passages, limited to the skill's sources.

    A follow-up that the skill's sources know nothing about gets the general search over all
    of them; a turn with nothing relevant at all leaves `passages` empty (out of scope).
    """

    async def search(text: str, sources: frozenset[str] | None) -> list[Passage]:
        # In a thread: a hybrid search spends ~15 ms of CPU, an external store waits on I/O.
        return await asyncio.to_thread(knowledge.search, text, config.knowledge.top_k, sources)

    async def retrieve(state: TurnState) -> TurnState:
        skill = config.skill(state.get("skill"))
        known = skill.knowledge if isinstance(skill, AnswerSkill) else None
        text = state["inbound"].text
        passages = await search(text, frozenset(known) if known is not None else None)
        if knows_about(text, passages):
            return {"passages": passages}
        routing = state.get("routing")
        if known is not None and routing is not None and routing.by == "follow-up":
            passages = await search(text, None)
            if knows_about(text, passages):
                return {"passages": passages, "skill": None, "active": None}
        return {"passages": []}

    return retrieve


def generate_node(
    config: FlowsConfig, responders: list[Responder], redact: Redact | None = None
) -> Node:
    """Build the generate node over the model chain (the extractive responder ends it).
    Models not marked `private` are sent what people said through `redact`."""
    last_resort = ExtractiveResponder()

    async def generate(state: TurnState) -> TurnState:
        inbound = state["inbound"]
        passages = state.get("passages", [])
        skill = config.skill(state.get("skill"))
        history = state.get("history", [])
        messages = build_messages(config, skill, history, inbound.text, passages)
        redacted = None
        if redact is not None and responders:  # the extractive responder reads no messages
            redacted = build_messages(config, skill, history, inbound.text, passages, redact)
        prompt = Prompt(messages, inbound.text, passages, redacted)
        write = get_stream_writer()

        def on_delta(delta: str) -> None:
            write(StreamChunk(conversation_id=inbound.conversation_id, delta=delta))

        generation: Generation | None = None
        failed = False
        for responder in responders:
            try:
                generation = await responder.generate(prompt, on_delta)
                break
            except Exception as exc:  # any model failure degrades to the next in the chain
                failed = True
                log.warning(
                    "model failed, falling back: %s (conversation=%s event=%s)",
                    exc, inbound.conversation_id, inbound.event_id,
                )
        if generation is None:
            generation = await last_resort.generate(prompt, on_delta)
        return {"draft": _draft(config, generation, passages, fallback=failed)}

    return generate


def _draft(config: FlowsConfig, generation: Generation, passages: list[Passage],
           fallback: bool) -> Draft:
    if not generation.text:
        return Draft(text=out_of_scope_text(config), usage=generation.usage, fallback=fallback)
    citations = tuple(citation(passages[i]) for i in generation.cited)
    return Draft(text=generation.text, citations=citations, usage=generation.usage,
                 fallback=fallback)


def citation(passage: Passage) -> Citation:
    chunk = passage.chunk
    return Citation(title=chunk.title, uri=chunk.uri, location=chunk.location,
                    anchor=chunk.anchor)
