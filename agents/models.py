"""Model configuration in one place: a `model:` string becomes a responder.

Hosted and self-hosted chat models go through langchain's `init_chat_model`, so every
provider it knows works ('openai:…', 'anthropic:…', 'ollama:…'), and `base_url` points the
OpenAI client at any compatible server (vLLM, llama.cpp, LM Studio). The built-in
'extractive' responder needs neither network nor weights; it is also the last resort when
every configured model fails.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from parley_bot.agents.config import ModelSpec
from parley_bot.agents.errors import MissingExtraError, ModelError, ModelTimeoutError
from parley_bot.agents.prompt import with_images
from parley_bot.agents.safelog import hide
from parley_bot.channels.messages import Usage
from parley_bot.knowledge.types import Passage

OnDelta = Callable[[str], None]

_EXTRAS = {"anthropic": "anthropic", "ollama": "ollama"}  # providers with a parley-bot[extra]
# [1], [1, 2], [1; 3] ([1][2] is two matches).
_CITE = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")


@dataclass(frozen=True)
class Prompt:
    """Everything a responder may use: the chat messages for a model, and the raw parts the
    extractive responder works from."""

    messages: list[BaseMessage]
    """As people typed them: for `private: true` models."""
    question: str
    passages: list[Passage]
    language: str | None = None
    """The language the question is written in (or the conversation's, for a short one)."""
    redacted: list[BaseMessage] | None = None
    """With personal data redacted, for every other model; None when nothing is redacted."""
    images: tuple[str, ...] = ()
    """Images the user sent with the question (data: URLs), for models that can see."""

    def for_model(self, private: bool, images: bool = False) -> list[BaseMessage]:
        """The messages a model may be sent; with the user's images when it sees `images`."""
        messages = self.messages if private or self.redacted is None else self.redacted
        return with_images(messages, self.images) if images else messages


@dataclass(frozen=True)
class Generation:
    """A responder's answer: its text, which passages (0-based) it cites, what it cost."""

    text: str
    cited: tuple[int, ...]
    usage: Usage


class Responder(Protocol):
    """Anything that turns a prompt into an answer."""

    name: str

    async def generate(self, prompt: Prompt, on_delta: OnDelta) -> Generation:
        """Answer `prompt`, reporting text pieces to `on_delta` as they arrive.

        Raises:
            ModelError: the model failed, timed out or returned nothing.
        """
        ...


class ChatResponder:
    """A langchain chat model, streamed, under a whole-answer deadline."""

    def __init__(self, spec: ModelSpec, model: BaseChatModel) -> None:
        self.name = spec.name
        self.spec = spec
        self.model = model

    async def generate(self, prompt: Prompt, on_delta: OnDelta) -> Generation:
        message: AIMessageChunk | None = None
        try:
            async with asyncio.timeout(self.spec.timeout_s):
                async for chunk in self.model.astream(
                        prompt.for_model(self.spec.private, self.spec.images)):
                    message = chunk if message is None else message + chunk
                    if chunk.text:
                        on_delta(chunk.text)
        except TimeoutError as exc:
            raise ModelTimeoutError(
                f"{self.name}: no answer within {self.spec.timeout_s:g} s") from exc
        except Exception as exc:  # every provider raises its own types; all mean "fall back"
            raise ModelError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        text = message.text.strip() if message is not None else ""
        if not text:
            raise ModelError(f"{self.name}: empty answer")
        return Generation(text=text, cited=cited(text, len(prompt.passages)),
                          usage=self.usage([message] if message is not None else []))

    def usage(self, messages: Sequence[AIMessage]) -> Usage:
        """Tokens and cost of the model's `messages` (one answer, or an agent's steps)."""
        metas: list[Any] = [m.usage_metadata or {} for m in messages]
        tokens_in = sum(int(meta.get("input_tokens", 0)) for meta in metas)
        tokens_out = sum(int(meta.get("output_tokens", 0)) for meta in metas)
        cost = (tokens_in * self.spec.price_in_per_mtok
                + tokens_out * self.spec.price_out_per_mtok) / 1e6
        return Usage(model=self.name, input_tokens=tokens_in, output_tokens=tokens_out,
                     cost_usd=cost)


def cited(text: str, count: int) -> tuple[int, ...]:
    """Passages the answer refers to as [n], in order of first mention. An answer that cites
    nothing cites nothing: 'the sources don't say' must not point at a source."""
    seen: dict[int, None] = {}
    for match in _CITE.finditer(text):
        for number in map(int, re.split(r"\s*[,;]\s*", match.group(1))):
            if 1 <= number <= count:
                seen[number - 1] = None
    return tuple(seen)


def chat_model(spec: ModelSpec) -> BaseChatModel:
    """Build the langchain chat model for `spec` (not for 'extractive').

    Raises:
        MissingExtraError: the provider's integration package is not installed.
        ModelError: the model cannot be set up (e.g. its API key variable is unset).
    """
    kwargs: dict[str, Any] = {"timeout": spec.timeout_s, "max_retries": 0}
    provider = spec.name.split(":", 1)[0]
    if spec.base_url:
        kwargs["base_url"] = spec.base_url
    if spec.api_key_env:
        key = os.environ.get(spec.api_key_env)
        if not key:
            raise _setup_error(spec, f"environment variable {spec.api_key_env} is not set")
        hide(key)
        kwargs["api_key"] = key
    elif spec.base_url and provider == "openai":
        # A local server that checks no key. The client insists on one, and must not send
        # OPENAI_API_KEY from the environment to a server that is not OpenAI's.
        kwargs["api_key"] = "no-key"
    if spec.temperature is not None:
        kwargs["temperature"] = spec.temperature
    if spec.max_tokens is not None:
        kwargs["max_tokens"] = spec.max_tokens
    if provider == "openai":
        kwargs["stream_usage"] = True  # token counts arrive in the last streamed chunk
    try:
        model: BaseChatModel = init_chat_model(spec.name, **kwargs)
        return model
    except ImportError as exc:
        if provider in _EXTRAS:
            raise MissingExtraError(f"model {spec.name!r}", _EXTRAS[provider]) from exc
        package = "langchain-" + provider.replace("_", "-")
        raise ModelError(f"model {spec.name!r} needs its integration package: "
                         f"pip install {package}") from exc
    except Exception as exc:  # providers validate keys and options in their constructors
        raise _setup_error(spec, str(exc)) from exc


def _setup_error(spec: ModelSpec, message: str) -> ModelError:
    return ModelError(f"model {spec.name!r} cannot be set up: {message}")


def build_responders(specs: list[ModelSpec]) -> list[Responder]:
    """Responders for the configured models, in the order they are tried.

    'extractive' entries are skipped: the extractive responder always ends the chain.
    """
    return [ChatResponder(spec, chat_model(spec)) for spec in specs if not spec.is_extractive]
