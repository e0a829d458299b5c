"""The turn graph: one run per user turn, `thread_id` = conversation id.

    START → intake ─┬─ answered: refused, declined, small talk, no to a pending call ──────┐
                    ├─ yes to a pending tool call ──────────────────→ agent ───────────────┤
                    └→ route ─┬─ answer or none ─┐                                         │
                              ├─ form → form ────┼─────────────────────────────────────────┤
                              └─ agent → agent ──┼─────────────────────────────────────────┤
         ┌───────────────────────────────────────┘                                         │
         └→ retrieve ─┬→ generate ─────→ respond → END  ←──────────────────────────────────┘
                      └→ out_of_scope ─→

`intake` is every message's first look, in one step (`agents.intake`): it sets the
conversation's language, reads the documents a user sent, refuses what the guard turns away,
takes the answer to a tool call waiting for the user's yes, and answers greetings, thanks,
goodbyes and 'what can you do?' itself. `route` picks a skill (or keeps the one the
conversation is in) and the graph branches on that skill's kind. No skill means the general
answer from every document (and the conversation's own), and out of scope when none is
relevant (`agents.scope`) unless the user sent an image to ask about.
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from parley_bot.agents.agent import agent_node
from parley_bot.agents.answer import generate_node, retrieve_node
from parley_bot.agents.attachments import ConversationDocuments, images_of
from parley_bot.agents.breaker import CircuitBreaker
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.form import form_node
from parley_bot.agents.intake import intake_node
from parley_bot.agents.models import Responder
from parley_bot.agents.prompt import Redact
from parley_bot.agents.respond import respond_node
from parley_bot.agents.router import SkillRouter
from parley_bot.agents.scope import out_of_scope_node, route_node
from parley_bot.agents.shared import SharedState
from parley_bot.agents.skills import AgentSkill, FormSkill
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
    documents = ConversationDocuments(shared, config.knowledge)
    graph.add_node("intake", intake_node(config, documents))
    graph.add_node("route", route_node(config, router))
    graph.add_node("retrieve", retrieve_node(config, knowledge, documents))
    graph.add_node("generate", generate_node(config, responders, knowledge,
                                             CircuitBreaker(shared), redact))
    graph.add_node("out_of_scope", out_of_scope_node(config))
    graph.add_node("form", form_node(config, tools))
    graph.add_node("agent", agent_node(config, responders, tools, shared, redact))
    graph.add_node("respond", respond_node(config))
    graph.add_edge(START, "intake")
    graph.add_conditional_edges("intake", _after_intake, ["agent", "route", "respond"])
    graph.add_conditional_edges("route", _by_kind(config), ["retrieve", "form", "agent"])
    graph.add_conditional_edges("retrieve", _after_retrieve, ["generate", "out_of_scope"])
    for node in ("generate", "out_of_scope", "form", "agent"):
        graph.add_edge(node, "respond")
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer)


# The branch functions are coroutines, though they only read the state: LangGraph runs a
# plain function in a worker thread when the graph runs async: a thread hop per branch.


async def _after_intake(state: TurnState) -> str:
    """The agent for a yes to a pending tool call, respond once intake has answered, else
    route."""
    if state.get("confirmed"):
        return "agent"
    return "respond" if state.get("draft") is not None else "route"


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
    """Generate from what was found, or about the image the user sent; else out of scope."""
    found = state.get("passages") or images_of(state["inbound"])
    return "generate" if found else "out_of_scope"
