"""The answer skill: retrieve passages, then generate a cited answer.

Generation tries each configured model in order and ends with the extractive responder, so
a dead or slow model costs the user quality, never the answer, and, once its circuit breaker
has opened, no waiting either. Every failure is logged with the conversation and event ids.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import PurePosixPath

from langgraph.config import get_stream_writer

from parley_bot.agents.asking import searched
from parley_bot.agents.attachments import ConversationDocuments, images_of
from parley_bot.agents.breaker import CircuitBreaker
from parley_bot.agents.config import EXTRACTIVE, FlowsConfig, ModelSpec
from parley_bot.agents.extractive import ExtractiveResponder, knows_about
from parley_bot.agents.models import Generation, Prompt, Responder
from parley_bot.agents.prompt import Redact, build_messages
from parley_bot.agents.scope import out_of_scope_text
from parley_bot.agents.skills import AnswerSkill
from parley_bot.agents.state import Draft, Node, TurnState
from parley_bot.agents.telemetry import model_failed
from parley_bot.channels.messages import Citation, StreamChunk, StreamReset
from parley_bot.knowledge.store import EmbeddedStore, KnowledgeStore, TermWeights
from parley_bot.knowledge.types import Passage

log = logging.getLogger("parley.answer")

TOPIC_WEIGHT = 0.3



def retrieve_node(config: FlowsConfig, knowledge: KnowledgeStore,
                  documents: ConversationDocuments | None = None) -> Node:
    """Build the retrieve node: the top passages for the question, limited to the skill's
    sources, with the skill's subject as a tie-breaker.

    The routed skill says what the question is about ('where is your store' is about store
    locations), so passages that also match its description gain `TOPIC_WEIGHT` of what the
    best match for that description scores, on top of their own score for the question.
    A question the skill's own sources know nothing about (a routing mistake, or a follow-up
    that moved on) gets the general answer: the search over every source, as if no skill had
    matched; a turn with nothing relevant at all leaves `passages` empty (out of scope).
    Documents the user sent in this conversation (`documents`) that know about the question
    come first.
    """

    # A BM25-only embedded index answers in well under a millisecond: on the event loop, as
    # a hop to a worker thread and back costs more than the search. A hybrid search spends
    # ~15 ms of CPU and an external store waits on I/O: those run in a thread.
    inline = isinstance(knowledge, EmbeddedStore) and knowledge.dense is None

    async def find(text: str, k: int, sources: frozenset[str] | None) -> list[Passage]:
        if inline:
            return knowledge.search(text, k, sources)
        return await asyncio.to_thread(knowledge.search, text, k, sources)

    async def search(text: str, sources: frozenset[str] | None, topic: str) -> list[Passage]:
        k = config.knowledge.top_k
        passages = await find(searched(text), k * 2 if topic else k, sources)
        if topic and passages:
            about = await find(topic, k * 2, sources)
            passages = _steered(passages, about, k)
        return passages

    async def retrieve(state: TurnState) -> TurnState:
        found = await from_knowledge(state)
        if documents is None:
            return found
        inbound = state["inbound"]
        k = config.knowledge.top_k
        own = await documents.search(inbound.key, inbound.text, k)
        if not knows_about(inbound.text, own):
            return found
        return {**found, "passages": (own + found.get("passages", []))[:k]}

    async def from_knowledge(state: TurnState) -> TurnState:
        skill = config.skill(state.get("skill"))
        known = skill.knowledge if isinstance(skill, AnswerSkill) else None
        text = state["inbound"].text
        topic = skill.description if skill is not None else ""
        passages = await search(text, frozenset(known) if known is not None else None, topic)
        if knows_about(text, passages):
            return {"passages": passages}
        if known is not None:  # the skill has nothing to say: the general answer, from all
            passages = await search(text, None, "")
            if knows_about(text, passages):
                return {"passages": passages, "skill": None, "active": None}
        return {"passages": []}

    return retrieve


def _steered(passages: list[Passage], about: list[Passage], k: int) -> list[Passage]:
    """`passages` re-ranked by their score (relative to the best) plus `TOPIC_WEIGHT` times
    their relative score for the skill's description; the top `k`."""
    top = passages[0].score or 1.0
    topic = {p.chunk.id: p.score / (about[0].score or 1.0) for p in about}
    ranked = sorted(passages, key=lambda p: -(p.score / top
                                              + TOPIC_WEIGHT * topic.get(p.chunk.id, 0.0)))
    return ranked[:k]


def generate_node(
    config: FlowsConfig, responders: list[Responder], knowledge: KnowledgeStore,
    breaker: CircuitBreaker, redact: Redact | None = None,
) -> Node:
    """Build the generate node over the model chain (the extractive responder ends it).

    A model whose breaker is open is skipped at once; one that fails part-way through its
    answer is followed by a `StreamReset`, so the channel drops what it showed of it. Models
    not marked `private` are sent what people said through `redact`.
    """
    last_resort = ExtractiveResponder(
        weights=knowledge.idf if isinstance(knowledge, TermWeights) else None)
    specs = {spec.name: spec for spec in config.models}
    chain = [(r, specs.get(r.name, ModelSpec(name=EXTRACTIVE))) for r in responders]

    async def generate(state: TurnState) -> TurnState:
        inbound = state["inbound"]
        passages = state.get("passages", [])
        skill = config.skill(state.get("skill"))
        history = state.get("history", [])
        language = state.get("language")
        messages = build_messages(config, skill, history, inbound.text, passages, language)
        redacted = None
        if redact is not None and responders:  # the extractive responder reads no messages
            redacted = build_messages(config, skill, history, inbound.text, passages, language,
                                      redact=redact)
        prompt = Prompt(messages, inbound.text, passages, language, redacted,
                        images_of(inbound))
        write = get_stream_writer()
        streamed = False

        def on_delta(delta: str) -> None:
            nonlocal streamed
            streamed = True
            write(StreamChunk(conversation_id=inbound.conversation_id, delta=delta))

        generation: Generation | None = None
        fell_back = False
        for responder, spec in chain:
            permit = await breaker.permit(responder.name, spec.timeout_s)
            fell_back = fell_back or permit is None
            if permit is None:
                continue
            try:
                generation = await responder.generate(prompt, on_delta)
            except Exception as exc:  # any model failure degrades to the next in the chain
                fell_back = True
                model_failed(responder.name, exc)
                log.warning("model failed, falling back: %s (conversation=%s event=%s)",
                            exc, inbound.conversation_id, inbound.event_id)
                if streamed:
                    write(StreamReset(conversation_id=inbound.conversation_id))
                    streamed = False
                await breaker.failed(responder.name, permit, spec.breaker)
                continue
            await breaker.succeeded(responder.name, permit)
            break
        if generation is None:
            generation = await last_resort.generate(prompt, on_delta)
        return {"draft": _draft(config, generation, passages, state.get("language"),
                                fallback=fell_back)}

    return generate


def _draft(config: FlowsConfig, generation: Generation, passages: list[Passage],
           language: str | None, fallback: bool) -> Draft:
    if not generation.text:
        return Draft(text=out_of_scope_text(config, language), usage=generation.usage,
                     fallback=fallback)
    published = {s.name: s.base_url for s in config.knowledge.sources if s.base_url}
    citations = tuple(citation(passages[i], published) for i in generation.cited)
    return Draft(text=generation.text, citations=citations, usage=generation.usage,
                 fallback=fallback)


def citation(passage: Passage, published: dict[str, str] | None = None) -> Citation:
    """The passage's citation; a file of a source with a `base_url` (in `published`, by
    source name) cites its public page: 'faq/returns.md' → '{base_url}/faq/returns'."""
    chunk = passage.chunk
    uri = chunk.uri
    base = (published or {}).get(chunk.source)
    if base is not None:
        uri = f"{base.rstrip('/')}/{PurePosixPath(uri).with_suffix('')}"
    return Citation(title=chunk.title, uri=uri, location=chunk.location, anchor=chunk.anchor)
