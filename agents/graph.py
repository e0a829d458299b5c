"""The turn graph: one run per user turn, `thread_id` = conversation id.

    START → language → guard ─┬─ refused ──────────────────────────────────────────────┐
                              └→ smalltalk ─┬─ greeting, thanks, … ──────────────────────┤
                                            └→ route ─┬─ answer or none → retrieve ─┐    │
                                                      ├─ form  → form ──────────────┤    │
                                                      └─ agent → agent ─────────────┤    │
                            retrieve ─┬→ generate ─────→ respond → END  ←───────────┴────┘
                                      └→ out_of_scope ─→

`language` sets the conversation's language from the message (every text the bot says on its
own follows it); `smalltalk` answers greetings, thanks, goodbyes and 'what can you do?' itself;
`route` picks a skill (or keeps the one the conversation is in) and the graph branches on
that skill's kind. No skill means the general answer from every document, and out of scope
when none is relevant (`agents.scope`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from parley_bot.agents.agent import agent_node
from parley_bot.agents.answer import generate_node, retrieve_node
from parley_bot.agents.breaker import CircuitBreaker
from parley_bot.agents.config import FlowsConfig
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
    graph.add_node("guard", guard_node(config.guard, config.texts))
    graph.add_node("smalltalk", smalltalk_node(config))
    graph.add_node("route", route_node(config, router))
    graph.add_node("retrieve", retrieve_node(config, knowledge))
    graph.add_node("generate", generate_node(config, responders, knowledge,
                                             CircuitBreaker(shared), redact))
    graph.add_node("out_of_scope", out_of_scope_node(config))
    graph.add_node("form", form_node(config, tools))
    graph.add_node("agent", agent_node(config, responders, tools, redact))
    graph.add_node("respond", respond_node(config))
    graph.add_edge(START, "language")
    graph.add_edge("language", "guard")
    graph.add_conditional_edges("guard", _drafted("smalltalk"), ["smalltalk", "respond"])
    graph.add_conditional_edges("smalltalk", _drafted("route"), ["route", "respond"])
    graph.add_conditional_edges("route", _by_kind(config), ["retrieve", "form", "agent"])
    graph.add_conditional_edges("retrieve", _after_retrieve, ["generate", "out_of_scope"])
    for node in ("generate", "out_of_scope", "form", "agent"):
        graph.add_edge(node, "respond")
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer)


# The branch functions are coroutines, though they only read the state: LangGraph runs a
# plain function in a worker thread when the graph runs async, four thread hops a turn.


def _drafted(otherwise: str) -> Callable[[TurnState], Awaitable[str]]:
    """Go to respond once a node has answered (set a draft), else to `otherwise`."""

    async def after(state: TurnState) -> str:
        return "respond" if state.get("draft") is not None else otherwise

    return after


def _by_kind(config: FlowsConfig) -> Any:
    async def branch(state: TurnState) -> str:
        skill = config.skill(state.get("skill"))
        if isinstance(skill, FormSkill):
            return "form"
        if isinstance(skill, AgentSkill):
            return "agent"
        return "retrieve"

    return branch


async def _after_retrieve(state: TurnState) -> str:
    return "generate" if state.get("passages") else "out_of_scope"
