"""The turn graph: one run per user turn, `thread_id` = conversation id.

    START → language ─┬→ attachments ─┬─ read or declined ───────────────────────────────────┐
                      └─ no files ────┴→ guard ─┬─ refused ──────────────────────────────────┤
                                                └→ confirm ─┬─ no to a pending tool call ────┤
                                                            ├─ yes ───────────→ agent        │
                                                ┌───────────┘                                │
                                                └→ smalltalk ─┬─ greeting, thanks, … ────────┤
                                                              └→ route ─┬─ answer or none ─┐ │
                                                                        ├─ form → form ────┼─┤
                                                                        └─ agent → agent ──┼─┤
         ┌─────────────────────────────────────────────────────────────────────────────────┘ │
         └→ retrieve ─┬→ generate ─────→ respond → END  ←────────────────────────────────────┘
                      └→ out_of_scope ─→

`language` sets the conversation's language from the message (every text the bot says on its
own follows it); `attachments` reads the documents a user sent and declines files it cannot
use (`agents.attachments`); `confirm` takes the answer to a tool call waiting for the user's
yes (`agents.confirm`); `smalltalk` answers greetings, thanks, goodbyes and 'what can you do?'
itself; `route` picks a skill (or keeps the one the conversation is in) and the graph branches
on that skill's kind. No skill means the general answer from every document (and the
conversation's own), and out of scope when none is relevant (`agents.scope`) unless the user
sent an image to ask about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from parley_bot.agents.agent import agent_node
from parley_bot.agents.answer import generate_node, retrieve_node
from parley_bot.agents.attachments import ConversationDocuments, attachments_node, images_of
from parley_bot.agents.breaker import CircuitBreaker
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.confirm import confirm_node
from parley_bot.agents.form import form_node
from parley_bot.agents.guard import guard_node
from parley_bot.agents.language import language_node
from parley_bot.agents.models import Responder
from parley_bot.agents.prompt import Redact
from parley_bot.agents.respond import respond_node
from parley_bot.agents.router import SkillRouter
from parley_bot.agents.scope import out_of_scope_node, route_node
from parley_bot.agents.shared import SharedState
from parley_bot.agents.skills import AgentSkill, FormSkill
from parley_bot.agents.smalltalk import smalltalk_node
from parley_bot.agents.state import TurnState
from parley_bot.knowledge.store import KnowledgeStore
from parley_bot.tools.registry import ToolRegistry

TurnGraph = CompiledStateGraph[TurnState, Any, TurnState, TurnState]


def build_graph(
    config: FlowsConfig,
    knowledge: KnowledgeStore,
    responders: list[Responder],
    checkpointer: BaseCheckpointSaver[str] | None,
    router: SkillRouter,
    tools: ToolRegistry,
    shared: SharedState,
    redact: Redact | None = None,
) -> TurnGraph:
    """Compile the turn graph with its dependencies injected into the nodes.

    Args:
        shared: the state worker processes share (the models' circuit breakers).
        redact: applied to what people said before it reaches a model that is not `private`.
    """
    graph = StateGraph(TurnState)
    graph.add_node("language", language_node(config))
    documents = ConversationDocuments(shared, config.knowledge)
    graph.add_node("attachments", attachments_node(config, documents))
    graph.add_node("guard", guard_node(config.guard, config.texts))
    graph.add_node("confirm", confirm_node(config))
    graph.add_node("smalltalk", smalltalk_node(config))
    graph.add_node("route", route_node(config, router))
    graph.add_node("retrieve", retrieve_node(config, knowledge, documents))
    graph.add_node("generate", generate_node(config, responders, knowledge,
                                             CircuitBreaker(shared), redact))
    graph.add_node("out_of_scope", out_of_scope_node(config))
    graph.add_node("form", form_node(config, tools))
    graph.add_node("agent", agent_node(config, responders, tools, shared, redact))
    graph.add_node("respond", respond_node(config))
    graph.add_edge(START, "language")
    graph.add_conditional_edges("language", _with_attachments, ["attachments", "guard"])
    graph.add_conditional_edges("attachments", _drafted("guard"), ["guard", "respond"])
    graph.add_conditional_edges("guard", _drafted("confirm"), ["confirm", "respond"])
    graph.add_conditional_edges("confirm", _after_confirm, ["agent", "smalltalk", "respond"])
    graph.add_conditional_edges("smalltalk", _drafted("route"), ["route", "respond"])
    graph.add_conditional_edges("route", _by_kind(config), ["retrieve", "form", "agent"])
    graph.add_conditional_edges("retrieve", _after_retrieve, ["generate", "out_of_scope"])
    for node in ("generate", "out_of_scope", "form", "agent"):
        graph.add_edge(node, "respond")
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer)


# The branch functions are coroutines, though they only read the state: LangGraph runs a
# plain function in a worker thread when the graph runs async: a thread hop per branch.


def _drafted(otherwise: str) -> Callable[[TurnState], Awaitable[str]]:
    """Go to respond once a node has answered (set a draft), else to `otherwise`."""

    async def after(state: TurnState) -> str:
        return "respond" if state.get("draft") is not None else otherwise

    return after


async def _after_confirm(state: TurnState) -> str:
    if state.get("confirmed"):
        return "agent"
    return await _drafted("smalltalk")(state)


def _by_kind(config: FlowsConfig) -> Any:
    async def branch(state: TurnState) -> str:
        skill = config.skill(state.get("skill"))
        if isinstance(skill, FormSkill):
            return "form"
        if isinstance(skill, AgentSkill):
            return "agent"
        return "retrieve"

    return branch


async def _with_attachments(state: TurnState) -> str:
    """Only a message with files passes through the attachments node."""
    return "attachments" if state["inbound"].attachments else "guard"


async def _after_retrieve(state: TurnState) -> str:
    """Generate from what was found, or about the image the user sent; else out of scope."""
    found = state.get("passages") or images_of(state["inbound"])
    return "generate" if found else "out_of_scope"
