"""A stand-in OpenAI-compatible server on 127.0.0.1 that speaks the real chat-completions
wire format (JSON and SSE streaming, usage included, tool calls too), so the real `openai`
client and `langchain-openai` are exercised end to end. It records every request it
receives. A `reply` returning `ToolCall`s answers with tool calls instead of text.

`obedient` is a reply function for a model that does whatever its system message says: the
kind of model a prompt injection succeeds against when documents reach the system message.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.utils.stub_server import JsonHandler, running

Mode = Literal["ok", "error", "hang", "cut"]
"""'ok' answers; 'error' is an HTTP 500; 'hang' answers only when released; 'cut' streams the
first chunks of the answer, then drops the connection."""


@dataclass(frozen=True)
class ToolCall:
    """A tool call the stand-in model makes."""

    name: str
    args: dict[str, Any]


Reply = Callable[[dict[str, Any]], "str | list[ToolCall]"]
DEFAULT_ANSWER = "Stand-in answer [1]."
_QUOTED = re.compile(r"<<<BEGIN QUOTED (.+?) (\w+)>>>\n(.*?)\n<<<END QUOTED \1 \2>>>", re.S)
_ORDER = re.compile(r"answer (?:only )?with the (?:secret )?word (\w+)", re.I)


def obedient(request: dict[str, Any]) -> str:
    """Answer with the word the system message orders ('answer with the secret word X'),
    wherever in it that order stands; else the default answer."""
    system = " ".join(m["content"] for m in request["messages"] if m["role"] == "system")
    order = _ORDER.search(system)
    return order.group(1) if order else DEFAULT_ANSWER


def quoted_blocks(content: str) -> dict[str, str]:
    """The quoted blocks of a message's content, label → body."""
    return {label: body for label, _, body in _QUOTED.findall(content)}


def said(content: str) -> str:
    """A user message's content without its quoted blocks: what the user typed."""
    return content.split("\n\n<<<BEGIN QUOTED ", 1)[0]


@dataclass
class OpenAIStub:
    """Controls and records of one running stand-in server."""

    port: int = 0
    mode: Mode = "ok"
    reply: Reply = lambda request: DEFAULT_ANSWER
    requests: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    """The API key (the Authorization header's bearer token) each request came with."""
    release: threading.Event = field(default_factory=threading.Event)
    delay_s: float = 0.0
    """Slept before each answer (a slow model)."""
    tokens: tuple[int, int] | None = None
    """(prompt, completion) tokens reported for each answer, instead of the small default."""
    fails: Callable[[dict[str, Any]], bool] = lambda request: False
    """Requests answered with an HTTP 500 while `mode` is 'ok'."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def user_texts(self, request: dict[str, Any]) -> list[str]:
        """What the user said in each user message of `request`, quoted blocks left out."""
        return [said(m["content"]) for m in request["messages"] if m["role"] == "user"]


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stub.requests.append(body)
            stub.keys.append(self.headers.get("Authorization", "").removeprefix("Bearer "))
            if self.path != "/v1/chat/completions":
                return self._json(404, {"error": {"message": "not found"}})
            if stub.mode == "error" or stub.fails(body):
                return self._json(500, {"error": {"message": "stand-in failure",
                                                  "type": "server_error"}})
            if stub.mode == "hang":  # until the test ends: the client gives up first
                stub.release.wait(30)
                self.close_connection = True  # nobody is waiting for an answer
                return None
            time.sleep(stub.delay_s)
            answer = stub.reply(body)
            prompt, completion = stub.tokens or (42 + len(body["messages"]), 7)
            usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                     "total_tokens": prompt + completion}
            calls = _wire_calls(answer, len(stub.requests)) if isinstance(answer, list) else []
            text = answer if isinstance(answer, str) else ""
            if body.get("stream"):
                return self._stream(body, text, calls, usage, cut=stub.mode == "cut")
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                message["tool_calls"] = calls
            return self._json(200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "tool_calls" if calls else "stop",
                             "message": message}],
                "usage": usage,
            })


        def _stream(self, body: dict[str, Any], text: str, calls: list[dict[str, Any]],
                    usage: dict[str, int], cut: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for n, event in enumerate(_events(body, text, calls, usage)):
                if cut and n == 3:  # the role chunk and two pieces of text got through
                    self.wfile.write(b"5\r\ndata:")  # half a chunk, then the line drops
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._chunk(f"data: {event}\n\n".encode())
            self._chunk(b"")

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _wire_calls(calls: list[ToolCall], request: int) -> list[dict[str, Any]]:
    return [{"id": f"call_{request}_{i}", "type": "function",
             "function": {"name": call.name, "arguments": json.dumps(call.args)}}
            for i, call in enumerate(calls)]


def _events(body: dict[str, Any], text: str, calls: list[dict[str, Any]],
            usage: dict[str, int]) -> Iterator[str]:
    base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": body["model"]}
    yield json.dumps({**base, "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
    for start in range(0, len(text), 8):
        yield json.dumps({**base, "choices": [
            {"index": 0, "delta": {"content": text[start:start + 8]}, "finish_reason": None}]})
    for index, call in enumerate(calls):  # a call's arguments arrive in pieces, as OpenAI's do
        arguments = call["function"]["arguments"]
        yield json.dumps({**base, "choices": [{"index": 0, "finish_reason": None, "delta": {
            "tool_calls": [{"index": index, "id": call["id"], "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""}}]}}]})
        for start in range(0, len(arguments), 8):
            yield json.dumps({**base, "choices": [{"index": 0, "finish_reason": None, "delta": {
                "tool_calls": [{"index": index,
                                "function": {"arguments": arguments[start:start + 8]}}]}}]})
    finish = "tool_calls" if calls else "stop"
    yield json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if body.get("stream_options", {}).get("include_usage"):
        yield json.dumps({**base, "choices": [], "usage": usage})
    yield "[DONE]"


@contextmanager
def serving(stub: OpenAIStub) -> Iterator[OpenAIStub]:
    """Serve `stub` on a free port for the life of the block; `stub.port` is set."""
    with running(_handler(stub), stub.release) as port:
        stub.port = port
        yield stub
