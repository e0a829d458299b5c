"""A model that keeps failing costs one timeout, not one per turn: its circuit breaker skips it
for a cool-down (turns are answered at once by the fallback chain), then one trial call
decides whether it is back. Against the real OpenAI client and a stand-in server; time is
an injected clock, never a sleep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from parley_bot.agents.bot import Bot
from parley_bot.agents.breaker import CircuitBreaker
from parley_bot.agents.config import BreakerSettings
from parley_bot.agents.shared import InMemoryShared
from parley_bot.agents.store.memory import MemoryStore
from tests.conftest import configure, stub_model
from tests.utils.messages import inbound
from tests.utils.openai_stub import OpenAIStub

QUESTION = "how long do I have to return boots?"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def failing_model(
    bot_dir: Path, stub: OpenAIStub, clock: Clock, **breaker: float
) -> AsyncIterator[Bot]:
    """A bot whose model (the stand-in, failing from the start) has these breaker settings,
    its shared state on `clock`."""
    config = configure(bot_dir, model=stub_model(stub, breaker=breaker))
    stub.mode = "error"
    async with Bot.open(config, store=MemoryStore(clock)) as bot:
        yield bot


async def test_three_failures_open_the_breaker_and_one_trial_closes_it(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    clock = Clock()
    async with failing_model(bot_dir, openai_stub, clock, failures=3, window_s=60,
                             cooldown_s=30) as bot:
        failing = [await bot.handle(inbound(QUESTION, f"c{n}")) for n in range(3)]
        assert len(openai_stub.requests) == 3

        clock.now += 29  # still cooling down: the model is not called at all
        skipped = [await bot.handle(inbound(QUESTION, f"d{n}")) for n in range(2)]
        assert len(openai_stub.requests) == 3

        clock.now += 2
        openai_stub.mode = "ok"
        trial = await bot.handle(inbound(QUESTION, "e"))
        assert len(openai_stub.requests) == 4
        after = await bot.handle(inbound(QUESTION, "f"))
        assert len(openai_stub.requests) == 5

    for reply in failing + skipped:  # answered from the fallback chain, every time
        assert reply.fallback and "60 days" in reply.text
        assert reply.usage is not None and reply.usage.model == "extractive"
    assert trial.text == after.text == "Stand-in answer [1]."
    assert not trial.fallback and not after.fallback


async def test_a_failed_trial_skips_the_model_for_another_cool_down(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    clock = Clock()
    async with failing_model(bot_dir, openai_stub, clock, failures=2, window_s=60,
                             cooldown_s=10) as bot:
        for n in range(2):
            await bot.handle(inbound(QUESTION, f"c{n}"))
        clock.now += 11
        await bot.handle(inbound(QUESTION, "trial"))
        assert len(openai_stub.requests) == 3
        clock.now += 9
        reply = await bot.handle(inbound(QUESTION, "skipped"))
        assert len(openai_stub.requests) == 3
    assert reply.fallback and "60 days" in reply.text


async def test_failures_outside_the_window_do_not_add_up(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    clock = Clock()
    async with failing_model(bot_dir, openai_stub, clock, failures=2, window_s=5,
                             cooldown_s=30) as bot:
        await bot.handle(inbound(QUESTION, "a"))
        clock.now += 6
        await bot.handle(inbound(QUESTION, "b"))
        await bot.handle(inbound(QUESTION, "c"))  # the second failure of this window: open
        await bot.handle(inbound(QUESTION, "d"))
    assert len(openai_stub.requests) == 3


async def test_only_one_process_makes_the_trial_call() -> None:
    clock = Clock()
    shared = InMemoryShared(clock)
    first, second = CircuitBreaker(shared), CircuitBreaker(shared)  # two workers, one store
    settings = BreakerSettings(failures=3, window_s=60, cooldown_s=30)
    for _ in range(settings.failures):
        assert await first.permit("m", 30) == "closed"
        await first.failed("m", "closed", settings)
    assert await second.permit("m", 30) is None
    clock.now += settings.cooldown_s
    assert await first.permit("m", 30) == "trial"
    assert await second.permit("m", 30) is None  # while the trial runs
    await first.succeeded("m", "trial")
    assert await second.permit("m", 30) == "closed"

