"""flows.yaml loading: every problem reported at once, each with its line, column and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley_bot.agents.errors import ConfigError
from parley_bot.agents.flowsfile import load_flows, parse_flows


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_flows(text, Path("/bots/acme/flows.yaml"))
    return [str(p).removeprefix("/bots/acme/") for p in caught.value.problems]


def test_the_example_bot_loads_and_resolves_paths_against_its_folder() -> None:
    config = load_flows(Path(__file__).parents[2] / "flows.yaml")
    assert config.name == "Acme Outdoor assistant"
    assert config.model.is_extractive
    assert config.path("knowledge/docs") == Path(__file__).parents[2] / "knowledge" / "docs"


def test_a_model_string_is_shorthand_for_its_name() -> None:
    config = parse_flows("name: x\nmodel: openai:gpt-4o-mini\nfallback_models: [extractive]\n",
                         Path("/b/flows.yaml"))
    assert config.model.name == "openai:gpt-4o-mini" and config.model.timeout_s == 30
    assert [m.name for m in config.models] == ["openai:gpt-4o-mini", "extractive"]


def test_typo_wrong_type_and_bad_indentation_are_all_reported() -> None:
    text = (
        "name: Acme\n"
        "modle: openai:gpt-4o\n"
        "knowledge:\n"
        "  top_k: lots\n"
        "skills:\n"
        "  - name: returns\n"
        "    exampels: [a]\n"
        "  - name: shipping\n"
        "    description: Shipping\n"
        "   examples: [b]\n"
    )
    assert problems(text) == [
        "flows.yaml:2:1: modle: unknown key (did you mean 'model'?)",
        "flows.yaml:4:10: knowledge.top_k: Input should be a valid integer, unable to parse "
        "string as an integer (got 'lots')",
        "flows.yaml:7:5: skills[0].exampels: unknown key (did you mean 'examples'?)",
        "flows.yaml:10:4: YAML syntax: expected <block end>, but found '<block mapping start>' "
        "(check the indentation of this line)",
    ]


def test_missing_required_and_cross_field_errors_name_the_place() -> None:
    text = (
        "persona: hi\n"
        "model: gpt-4o\n"
        "skills:\n"
        "  - name: returns\n"
        "    knowledge: [faq]\n"
        "    template: '{answer} {user}'\n"
    )
    found = problems(text)
    assert "flows.yaml:1:1: name: required field is missing" in found
    assert ("flows.yaml:2:8: model.name: model 'gpt-4o' is neither 'extractive' nor "
            "'provider:model' (e.g. 'openai:gpt-4o-mini')") in found
    assert ("flows.yaml:6:15: skills[0].template: template may only use {answer}, "
            "found ['user']") in found


def test_cross_field_errors_point_at_the_field_they_are_about() -> None:
    text = (
        "name: x\n"
        "knowledge:\n"
        "  sources:\n"
        "    - {name: docs, path: a}\n"
        "    - {name: docs, path: b}\n"
    )
    assert problems(text) == [
        "flows.yaml:5:14: knowledge.sources[1].name: knowledge source 'docs' is defined twice"]
    text = "name: x\nskills:\n  - name: returns\n    knowledge: [faq]\n  - name: returns\n"
    assert problems(text) == [
        "flows.yaml:4:16: skills[0].knowledge: unknown knowledge source(s) ['faq'] "
        "(known: ['docs'])",
        "flows.yaml:5:11: skills[1].name: skill 'returns' is defined twice",
    ]


def test_a_file_that_is_not_a_mapping_or_not_there_is_a_config_error(tmp_path: Path) -> None:
    assert problems("- just\n- a list\n") == [
        "flows.yaml:1:1: the file must be a mapping of settings"]
    with pytest.raises(ConfigError, match="cannot read"):
        load_flows(tmp_path / "missing.yaml")


def test_unclosed_quote_is_reported_not_raised_as_a_traceback() -> None:
    assert problems('name: "Acme\npersona: hi\n') == [
        "flows.yaml:1:7: YAML syntax: while scanning a quoted scalar: found unexpected end of "
        "stream"
    ]


FORM = (
    "name: x\n"
    "tools:\n"
    "  - name: order_status\n"
    "    description: Look up an order\n"
    "    url: https://orders.example/api/{number}\n"
    "    args: {number: {}}\n"
    "skills:\n"
    "  - name: order\n"
    "    kind: form\n"
    "    tool: order_status\n"
    "    reply: 'Order {{ number }}'\n"
    "    slots:\n"
    "      - name: number\n"
    "        question: Which order?\n"
)


def test_the_skill_kinds_load_as_their_own_classes() -> None:
    config = parse_flows(FORM + "  - name: faq\n", Path("/b/flows.yaml"))
    assert [type(s).__name__ for s in config.skills] == ["FormSkill", "AnswerSkill"]


def test_errors_inside_a_skill_kind_point_at_the_line_and_suggest_its_own_keys() -> None:
    assert problems(FORM + "        qestion: typo\n") == [
        "flows.yaml:15:9: skills[0].slots[0].qestion: unknown key (did you mean 'question'?)"]
    # 'tool' is a key of a form, not of an answer skill: the suggestion comes from the form.
    assert problems(FORM.replace("    tool: order_status\n", "    tols: order_status\n")) == [
        "flows.yaml:8:5: skills[0].tool: required field is missing",
        "flows.yaml:10:5: skills[0].tols: unknown key (did you mean 'tool'?)",
    ]
    assert problems("name: x\nskills:\n  - name: faq\n    slots: []\n") == [
        "flows.yaml:4:5: skills[0].slots: unknown key (known: name, description, examples, "
        "instructions, few_shot, kind, knowledge, template)"]
    assert problems(FORM.replace("Which order?", "{english: b}")) == [
        "flows.yaml:14:19: skills[0].slots[0].question: 'english' is not a language code "
        "(like 'en', 'pl', 'pt-BR')"]


def test_an_unknown_kind_is_located_at_the_kind_with_a_suggestion() -> None:
    assert problems(FORM.replace("kind: form", "kind: froms")) == [
        "flows.yaml:9:11: skills[0].kind: unknown kind 'froms' (did you mean 'form'?)"]
    assert problems("name: x\nskills:\n  - {name: a, kind: robot}\n") == [
        "flows.yaml:3:21: skills[0].kind: unknown kind 'robot' (known: answer, form, agent)"]


def test_tool_references_and_templates_are_checked_where_they_are_written() -> None:
    text = FORM.replace("{number}\n", "{numbr}\n").replace("{{ number }}'", "{{ number '")
    assert problems(text) == [
        "flows.yaml:5:10: tools[0].url: unknown argument(s) ['numbr'] (args: ['number'])",
        "flows.yaml:11:12: skills[0].reply: template error on its line 1: unexpected end of "
        "template, expected 'end of print statement'.",
    ]
    # Checks across sections run once each section is valid on its own.
    assert problems(FORM.replace("tool: order_status", "tool: order_statsu")) == [
        "flows.yaml:10:11: skills[0].tool: unknown tool 'order_statsu' (known: ['order_status'])"]
    assert problems(FORM + "    verify: {slot: mail, field: email}\n") == [
        "flows.yaml:15:20: skills[0].verify.slot: unknown slot 'mail' (slots: ['number'])"]
    assert problems(FORM.replace("- name: number\n", "- name: num\n")) == [
        "flows.yaml:10:11: skills[0].tool: tool 'order_status' needs argument(s) ['number'] "
        "that no slot gives"]
    assert problems(FORM.replace("    args:", "    confirm: true\n    args:")) == [
        "flows.yaml:11:11: skills[0].tool: tool 'order_status' is confirm: true, which only an "
        "agent skill can ask about; use an agent skill for it, or drop confirm"]
    assert problems(FORM.replace("https://orders.example/api/{number}",
                                 "https://{number}.example/api")) == [
        "flows.yaml:5:10: tools[0].url: must start with http://, https:// or ${VARIABLE}, and "
        "put {arguments} only after the host ('${BASE}/orders/{number}')"]


def test_python_tools_in_the_bot_folder_count_as_known_tools(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "catalog.py").write_text(
        "from langchain_core.tools import tool\n\n\n@tool\ndef price(item: str) -> str:\n"
        '    """A price."""\n    return "$1"\n')
    agent = "name: x\nskills:\n  - {name: a, kind: agent, tools: [%s]}\n"
    (tmp_path / "flows.yaml").write_text(agent % "price")
    assert list(load_flows(tmp_path / "flows.yaml").python_tools) == ["price"]
    (tmp_path / "flows.yaml").write_text(agent % "prize")
    with pytest.raises(ConfigError) as caught:
        load_flows(tmp_path / "flows.yaml")
    assert str(caught.value.problems[0]).endswith(
        "flows.yaml:3:36: skills[0].tools[0]: unknown tool 'prize' (known: ['price'])")


def test_trust_settings_are_checked_where_they_are_written() -> None:
    text = (
        "name: Acme\n"
        "knowledge:\n"
        "  sources:\n"
        "    - {name: docs, path: docs, include: ['../secrets/*.md']}\n"
        "    - {name: faq, path: faq, allow_private: true}\n"
        "    - {name: site, url: 'https://help.example.com/', allow_hosts: [www.example.com]}\n"
        "privacy:\n"
        "  redact: [email, passport]\n"
        "  phone_regions: [uk]\n"
        "model: {name: 'openai:gpt-4o-mini', private: maybe}\n"
    )
    assert problems(text) == [
        "flows.yaml:4:41: knowledge.sources[0].include: pattern '../secrets/*.md' leaves the "
        "source folder; patterns are relative to `path`, without '..'",
        "flows.yaml:5:45: knowledge.sources[1].allow_private: allow_private applies to 'url' "
        "sources only",
        "flows.yaml:8:19: privacy.redact[1]: Input should be 'email', 'phone', 'card', 'iban' "
        "or 'ip' (got 'passport')",
        "flows.yaml:9:18: privacy.phone_regions: unknown phone region(s) ['uk'] (upper-case "
        "ISO 3166 codes, such as US or GB)",
        "flows.yaml:10:46: model.private: Input should be a valid boolean, unable to interpret "
        "input (got 'maybe')",
    ]


def test_languages_breaker_and_new_texts_are_checked_where_they_are_written() -> None:
    text = (
        "name: x\n"
        "model:\n"
        "  name: openai:gpt-4o-mini\n"
        "  breaker: {failures: 0, cooldown_s: 30}\n"
        "knowledge:\n"
        "  languages: [en, Polish]\n"
        "texts:\n"
        "  capabilities: 'We do {things}'\n"
    )
    assert problems(text) == [
        "flows.yaml:4:23: model.breaker.failures: Input should be greater than or equal to 1 "
        "(got 0)",
        "flows.yaml:6:19: knowledge.languages[1]: 'Polish' is not a language code "
        "(like 'en', 'pl', 'pt-BR')",
        "flows.yaml:8:17: texts.capabilities: unknown placeholder(s) ['things'] "
        "(allowed: ['topics'])",
    ]


def test_languages_are_auto_unless_pinned() -> None:
    for text in ("name: x\n", "name: x\nknowledge: {languages: auto}\n"):
        config = parse_flows(text, Path("/b/flows.yaml"))
        assert config.knowledge.pinned_languages is None
    pinned = parse_flows("name: x\nknowledge: {languages: [en, pl]}\n", Path("/b/flows.yaml"))
    assert pinned.knowledge.pinned_languages == frozenset({"en", "pl"})


@pytest.mark.parametrize("url", ["redis://cache:6379/0", "rediss://user:pw@cache.example:6380",
                                 "sqlite:state/memory.db", "memory:"])
def test_memory_urls_of_every_store_are_accepted(url: str) -> None:
    config = parse_flows(f"name: x\nmemory: {{url: '{url}'}}\n", Path("/b/flows.yaml"))
    assert config.memory.url == url


def test_store_and_rate_limit_errors_name_their_line_and_field() -> None:
    text = (
        "name: x\n"
        "memory:\n"
        "  url: postgres://db/parley\n"
        "guard:\n"
        "  rate_limit: {per_user: 0}\n"
        "texts:\n"
        "  rate_limited: 'wait {seconds} s'\n"
    )
    assert problems(text) == [
        "flows.yaml:3:8: memory.url: memory 'postgres://db/parley' must be 'sqlite:PATH', "
        "'redis://…', 'rediss://…' or 'memory:'",
        "flows.yaml:5:26: guard.rate_limit.per_user: Input should be greater than 0 (got 0)",
        "flows.yaml:7:17: texts.rate_limited: unknown placeholder(s) ['seconds'] (allowed: [])",
    ]
