"""The intake node: the first look at every message, in one graph step.

Its steps always run in this order and each may end the turn's intake early:

    language → attachments (only a message with files) → guard → confirm → smalltalk

`language` sets the conversation's language (`agents.language`); `attachments` reads the
documents a user sent (`agents.attachments`); `guard` refuses what must not go further
(`agents.guard`); `confirm` takes the answer to a tool call waiting for the user's yes
(`agents.confirm`); `smalltalk` answers greetings and thanks itself (`agents.smalltalk`).
A step that answers (sets a `draft`) or confirms a pending call ends the intake; the graph
then goes to respond, or to the agent.

One node rather than five because LangGraph's engine costs about as much per step as these
steps do themselves (a task, its writes and channel updates each time): five steps were
most of what parley added to a turn before routing.
"""

from __future__ import annotations

from parley_bot.agents.attachments import ConversationDocuments, attachments_node
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.confirm import confirm_node
from parley_bot.agents.guard import guard_node
from parley_bot.agents.language import language_node
from parley_bot.agents.smalltalk import smalltalk_node
from parley_bot.agents.state import Node, TurnState


def intake_node(config: FlowsConfig, documents: ConversationDocuments) -> Node:
    """Build the intake node of this bot, reading documents into `documents`."""
    language = language_node(config)
    attachments = attachments_node(config, documents)
    checks = (guard_node(config.guard, config.texts), confirm_node(config),
              smalltalk_node(config))

    async def intake(state: TurnState) -> TurnState:
        update = await language(state)
        steps = (attachments, *checks) if state["inbound"].attachments else checks
        for step in steps:
            if update.get("draft") is not None or update.get("confirmed"):
                break
            update = {**update, **await step({**state, **update})}
        return update

    return intake
