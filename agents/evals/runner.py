"""Run an evaluation set through the real `Bot`, once per model, and score every turn.

Each model gets its own bot (same flows.yaml, that model alone, no fallbacks, its circuit
breaker out of the way so each case stands alone) on an in-memory store, with every tool
answered from the case's canned results (`CannedTools`): nothing external runs. One
conversation per case and model, on channel 'eval'; at most `concurrency` at once.

A model that fails a turn shows as the bot falling back (`OutboundMessage.fallback`); for any
model but 'extractive' (whose fallbacks are by design) that case counts as an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage

from parley_bot.agents.bot import Bot
from parley_bot.agents.config import BreakerSettings, FlowsConfig, ModelSpec, PromptLogConfig
from parley_bot.agents.errors import ToolError
from parley_bot.agents.evals.cache import Entry, EvalCache, verdict_key
from parley_bot.agents.evals.cases import Case, Judge
from parley_bot.agents.evals.checks import (
    CheckResult,
    ToolUse,
    TurnReply,
    check_turn,
    judge_messages,
    judge_verdict,
)
from parley_bot.agents.models import chat_model
from parley_bot.agents.store.memory import MemoryStore
from parley_bot.channels.messages import InboundMessage, OutboundMessage, conversation_key
from parley_bot.knowledge.ingest import Ingestor
from parley_bot.tools.registry import ToolRegistry

_NO_BREAKER = BreakerSettings(failures=1_000_000)


class CannedTools(ToolRegistry):
    """The bot's tools answered from each case's `tool_results`, recording every call made
    (the registry's checks still run first: a tool a skill may not use is still refused)."""

    def __init__(self, config: FlowsConfig) -> None:
        super().__init__(config.tools, config.python_tools)
        self.results: dict[str, dict[str, Any]] = {}
        """Conversation key → the canned results of its case."""
        self.calls: dict[str, list[ToolUse]] = defaultdict(list)

    async def run(self, name: str, args: dict[str, Any], conversation: str) -> Any:
        self.calls[conversation].append(ToolUse(name=name, args=args))
        canned = self.results.get(conversation, {})
        if name not in canned:
            raise ToolError(f"{name}: the eval case gives no canned result for it")
        return canned[name]


@dataclass
class CaseRun:
    """One case, one model: the replies and the scored checks of each turn."""

    case: Case
    model: str
    replies: list[TurnReply]
    checks: list[list[CheckResult]]
    error: bool
    cached: bool

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for turn in self.checks for c in turn)


@dataclass
class Run:
    """Everything one `parley eval` asked, by model name, in the order given."""

    models: list[ModelSpec]
    cases: list[Case]
    results: dict[str, list[CaseRun]] = field(default_factory=dict)


async def run_eval(config: FlowsConfig, cases: list[Case], models: list[ModelSpec], *,
                   concurrency: int, cache: EvalCache | None = None,
                   advance: Callable[[], None] = lambda: None) -> Run:
    """Ask every case of every model and score the replies.

    Args:
        cache: answers of earlier runs; None asks everything again.
        advance: called after each case (a progress bar).
    """
    knowledge = await asyncio.to_thread(Ingestor(config.knowledge, config.root).open)
    limit = asyncio.Semaphore(concurrency)
    run = Run(models, cases)
    judges = {spec.name: spec for spec in [*config.models, *config.eval.models, *models]}
    async with AsyncExitStack() as stack:
        jobs: list[Coroutine[Any, Any, CaseRun]] = []
        for spec in models:
            tools = CannedTools(config)
            alone = spec.model_copy(update={"breaker": _NO_BREAKER})
            # Eval turns are not conversations: they stay out of the prompt log that
            # `parley export` turns into training data.
            quiet = {"model": alone, "fallback_models": [], "log_prompts": PromptLogConfig()}
            bot = await stack.enter_async_context(Bot.open(
                config.model_copy(update=quiet),
                store=MemoryStore(), knowledge=knowledge, tools=tools))
            jobs.extend(_one(bot, tools, spec, case, cache, limit, advance, judges)
                        for case in cases)
        for case_run in await asyncio.gather(*jobs):
            run.results.setdefault(case_run.model, []).append(case_run)
    return run


async def _one(bot: Bot, tools: CannedTools, spec: ModelSpec, case: Case,
               cache: EvalCache | None, limit: asyncio.Semaphore,
               advance: Callable[[], None], judges: dict[str, ModelSpec]) -> CaseRun:
    key = cache.key(spec, case) if cache is not None else ""
    entry = cache.get(key) if cache is not None else None
    cached = entry is not None
    if entry is None:
        async with limit:
            replies = await _converse(bot, tools, case)
        entry = Entry(skills=cache.depends_on(case, replies) if cache else {}, replies=replies)
    pairs = list(zip(case.case.turns, entry.replies, strict=True))
    checks = [check_turn(turn, reply) for turn, reply in pairs]
    for n, (turn, reply) in enumerate(pairs):
        if turn.judge is not None:
            name = verdict_key(turn.judge.model, turn.judge.rubric, n)
            verdict = entry.verdicts.get(name)
            if verdict is None:
                judge = judges.get(turn.judge.model) or ModelSpec(name=turn.judge.model)
                verdict, asked = await _ask_judge(judge, turn.judge, turn.user, reply.text)
                if asked:  # a judge that could not be asked is asked again next run
                    entry.verdicts[name] = verdict
            checks[n].append(judge_verdict(turn.judge, reply.text, verdict))
    error = not spec.is_extractive and any(reply.fallback for reply in entry.replies)
    if cache is not None and not error:  # a failed model call is retried next run
        cache.put(key, entry)
    advance()
    return CaseRun(case, spec.name, entry.replies, checks, error, cached)


async def _converse(bot: Bot, tools: CannedTools, case: Case) -> list[TurnReply]:
    conversation = "case-" + hashlib.sha256(case.id.encode()).hexdigest()[:24]
    key = conversation_key("eval", conversation)  # what the tools are told
    tools.results[key] = case.case.tool_results
    replies: list[TurnReply] = []
    for turn in case.case.turns:
        message = InboundMessage(channel="eval", conversation_id=conversation,
                                 user_id=conversation, text=turn.user)
        started = time.perf_counter()
        reply = await bot.handle(message)
        replies.append(_reply(reply, time.perf_counter() - started,
                              tools.calls.pop(key, [])))
    return replies


def _reply(reply: OutboundMessage, seconds: float, calls: list[ToolUse]) -> TurnReply:
    usage = reply.usage
    return TurnReply(
        text=reply.text, skill=reply.skill, calls=calls, fallback=reply.fallback,
        cites=[part for c in reply.citations for part in (c.uri, c.title)],
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0, latency_s=seconds)


async def _ask_judge(spec: ModelSpec, judge: Judge, question: str,
                     answer: str) -> tuple[str, bool]:
    """The verdict of the judge model `spec` and whether it was reached; a failure is a FAIL
    that says why."""
    try:
        reply = await chat_model(spec).ainvoke(judge_messages(judge, question, answer))
    except Exception as exc:  # any provider error: the check fails and says so
        return f"FAIL (the judge could not be asked: {type(exc).__name__}: {exc})", False
    return (reply.text if isinstance(reply, AIMessage) else str(reply)), True


def models_to_run(config: FlowsConfig, names: list[str]) -> list[ModelSpec]:
    """The models to compare: `names` (each the spec of that name in `eval.models` or the
    bot's models, else a bare id), else `eval.models`, else the bot's own model."""
    known = {spec.name: spec for spec in [*config.models, *config.eval.models]}
    if not names:
        return list(config.eval.models) or [config.model]
    return [known.get(name) or ModelSpec(name=name) for name in dict.fromkeys(names)]
