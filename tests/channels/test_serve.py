"""Several `parley serve` processes on one store, as behind a load balancer: a conversation's
turns may land on any of them and still see its whole history, one turn at a time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import configure, stub_model
from tests.utils.cli import serving, serving_many
from tests.utils.openai_stub import OpenAIStub


def chat(base: str, conversation: str, text: str) -> httpx.Response:
    return httpx.post(f"{base}/api/chat", json={"conversation_id": conversation, "text": text},
                      timeout=60)


def check_alternating_and_concurrent_turns(bases: list[str], stub: OpenAIStub) -> None:
    # Turns of one conversation alternating between the processes keep the whole history.
    said = [f"how much is express shipping, question {i}?" for i in range(4)]
    for i, text in enumerate(said):
        assert chat(bases[i % len(bases)], "alt", text).status_code == 200
    assert stub.user_texts(stub.requests[-1]) == said

    # Eight at once, split across the processes, become eight turns one after another...
    burst = [f"how much is express shipping, burst {i}?" for i in range(8)]
    before = len(stub.requests)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda i: chat(bases[i % len(bases)], "burst", burst[i]),
                                range(8)))
    assert [r.status_code for r in replies] == [200] * 8, [r.text for r in replies]
    calls = sorted((stub.user_texts(r) for r in stub.requests[before:]), key=len)
    assert [len(c) for c in calls] == list(range(1, 9))
    assert all(c[:-1] == calls[i - 1] for i, c in enumerate(calls) if i)  # each saw the last
    # ...and the ninth turn's model call holds all eight.
    ninth = "and the ninth: how much is express shipping?"
    assert chat(bases[0], "burst", ninth).status_code == 200
    assert stub.user_texts(stub.requests[-1]) == [*calls[-1], ninth]
    turns = httpx.get(f"{bases[-1]}/api/conversations/burst").json()["turns"]
    assert [t["user_text"] for t in turns] == [*calls[-1], ninth]


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_two_processes_share_one_store(
    store: str, bot_dir: Path, openai_stub: OpenAIStub, redis_url: str, redis_prefix: str
) -> None:
    memory = {"url": redis_url} if store == "redis" else {}
    configure(bot_dir, model=stub_model(openai_stub), memory=memory)
    with serving_many(bot_dir, count=2) as bases:
        check_alternating_and_concurrent_turns(bases, openai_stub)
        if store == "redis":
            for conversation in ("alt", "burst"):
                httpx.delete(f"{bases[0]}/api/conversations/{conversation}")


def test_workers_option_runs_several_processes_on_the_store(
    bot_dir: Path, openai_stub: OpenAIStub
) -> None:
    configure(bot_dir, model=stub_model(openai_stub))
    with serving(bot_dir, "--workers", "2") as base:
        check_alternating_and_concurrent_turns([base, base], openai_stub)
