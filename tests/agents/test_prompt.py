"""Per-skill instructions and few-shot examples in the model input, for every skill kind."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from parley_bot.agents.flowsfile import parse_flows
from parley_bot.agents.prompt import build_messages

FLOWS = """
name: x
skills:
  - name: returns
    instructions: Always mention the 60-day limit.
    few_shot:
      - {user: can I return worn boots?, assistant: 'Only if worn indoors [1].'}
  - name: advice
    kind: agent
    tools: [t]
    instructions: Recommend only what the catalog returns.
    few_shot:
      - {user: a tent for two?, assistant: 'The Ridge 2 ($249).'}
tools:
  - {name: t, description: d, url: 'https://x.example/{q}', args: {q: {}}}
"""


def test_instructions_go_in_the_system_prompt_and_shots_before_the_question() -> None:
    config = parse_flows(FLOWS, Path("/b/flows.yaml"))
    history = [{"user": "hi", "bot": "hello"}]
    for skill, passages in ((config.skills[0], []), (config.skills[1], None)):
        messages = build_messages(config, skill, history, "the question", passages)
        assert isinstance(messages[0], SystemMessage)
        assert skill.instructions in messages[0].text
        assert ("Sources:" in messages[0].text) == (passages is not None)
        shot = skill.few_shot[0]
        assert [type(m) for m in messages[1:]] == [HumanMessage, AIMessage, HumanMessage,
                                                   AIMessage, HumanMessage]
        assert [m.text for m in messages[1:3]] == [shot.user, shot.assistant]
        assert messages[-1].text == "the question"
