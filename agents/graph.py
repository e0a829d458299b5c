"""The turn graph: one run per user turn, `thread_id` = conversation id.

    START → guard ─┬─ refused ───────────────────────────┐
                   └→ route → retrieve → generate → respond → END

`route` picks a skill. Every skill is an 'answer' skill for now (retrieve → generate); the
skill kinds still to come (form, agent, hand-off) turn the route → retrieve edge into a
branch on the chosen skill's kind.
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from parley_bot.agents.answer import generate_node, retrieve_node
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.guard import guard_node
from parley_bot.agents.models import Responder
from parley_bot.agents.prompt import Redact
from parley_bot.agents.respond import respond_node
from parley_bot.agents.router import SkillRouter, route_node
from parley_bot.agents.state import TurnState
from parley_bot.knowledge.store import KnowledgeStore

TurnGraph = CompiledStateGraph[TurnState, Any, TurnState, TurnState]


def build_graph(
    config: FlowsConfig,
    knowledge: KnowledgeStore,
    responders: list[Responder],
    checkpointer: BaseCheckpointSaver[str] | None,
    redact: Redact | None = None,
) -> TurnGraph:
    """Compile the turn graph with its dependencies injected into the nodes; `redact` is
    applied to what people said before it reaches a model that is not `private`."""
    graph = StateGraph(TurnState)
    graph.add_node("guard", guard_node(config.guard, config.texts))
    graph.add_node("route", route_node(SkillRouter(config.skills)))
    graph.add_node("retrieve", retrieve_node(config, knowledge))
    graph.add_node("generate", generate_node(config, responders, redact))
    graph.add_node("respond", respond_node(config))
    graph.add_edge(START, "guard")
    graph.add_conditional_edges("guard", _after_guard, ["route", "respond"])
    graph.add_edge("route", "retrieve")
    graph.add_edge("retrieve", "generate")
    graph.add_edge("generate", "respond")
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer)


def _after_guard(state: TurnState) -> str:
    return "respond" if state.get("draft") is not None else "route"

