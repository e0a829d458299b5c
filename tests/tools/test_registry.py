"""Tools called through the registry: HTTP tools against a local API, Python tools from a
bot's tools/ folder; every failure a `ToolResult`, never an exception."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from langchain_core.tools import tool

from parley_bot.agents.errors import ConfigError
from parley_bot.agents.skills import HttpTool
from parley_bot.tools.python import load_python_tools
from parley_bot.tools.registry import ToolRegistry
from tests.utils.api_stub import ApiStub


def order_tool(url: str = "${ORDERS_API}/orders/{number}", **extra: object) -> HttpTool:
    return HttpTool.model_validate({
        "name": "order_status", "description": "Look up an order", "url": url,
        "headers": {"Authorization": "Bearer ${ORDERS_TOKEN}", "Accept": "application/json"},
        "args": {"number": {"type": "string"}}, "keep": ["status", "carrier", "customer.email"],
        "timeout_s": 0.5, **extra})


@pytest.fixture
def env(api_stub: ApiStub, monkeypatch: pytest.MonkeyPatch) -> ApiStub:
    monkeypatch.setenv("ORDERS_API", api_stub.base_url)
    monkeypatch.setenv("ORDERS_TOKEN", "s3cret")
    return api_stub


async def test_an_http_tool_fills_its_url_sends_env_headers_and_keeps_fields(env: ApiStub) -> None:
    result = await ToolRegistry([order_tool()]).call("order_status", {"number": "10045"})
    assert result.ok
    assert result.data == {"status": "shipped", "carrier": "DHL",
                           "customer": {"email": "ann@example.com"}}
    assert env.requests[0]["path"] == "/orders/10045"
    assert env.requests[0]["headers"]["Authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("value", ["../admin", "1?all=true", "1#x", "a/b", "x@evil.example"])
async def test_values_are_encoded_so_they_stay_one_path_segment(env: ApiStub, value: str) -> None:
    result = await ToolRegistry([order_tool()]).call("order_status", {"number": value})
    assert result.not_found  # the stand-in has no such order; the path was never left
    path = env.requests[-1]["path"]
    assert path.startswith("/orders/") and "/" not in path.removeprefix("/orders/")
    assert "?" not in path and "#" not in path


async def test_dot_segments_are_refused_before_any_request(env: ApiStub) -> None:
    result = await ToolRegistry([order_tool()]).call("order_status", {"number": ".."})
    assert not result.ok and "not allowed" in result.error and env.requests == []


async def test_a_redirect_is_not_followed(env: ApiStub) -> None:
    tools = ToolRegistry([order_tool("${ORDERS_API}/moved/{number}")])
    result = await tools.call("order_status", {"number": "1"})
    assert not result.ok and "HTTP 302" in result.error
    assert [r["path"] for r in env.requests] == ["/moved/1"]


async def test_a_json_body_template_gets_typed_values(env: ApiStub) -> None:
    tool = HttpTool.model_validate({
        "name": "note", "description": "Add a note", "method": "POST",
        "url": "${ORDERS_API}/echo/{number}", "body": {"qty": "{qty}", "text": "order {number}"},
        "args": {"number": {}, "qty": {"type": "integer"}}})
    result = await ToolRegistry([tool]).call("note", {"number": "7", "qty": "3"},
                                             strict=False)  # a form's typed-in slots
    assert result.ok and result.data == {"path": "/echo/7", "body": {"qty": 3, "text": "order 7"}}


async def test_500_timeout_missing_env_and_bad_arguments_are_results_and_logged(
    env: ApiStub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    tools = ToolRegistry([order_tool("${ORDERS_API}/broken/{number}", name="broken"),
                          order_tool("${ORDERS_API}/slow/{number}", name="slow"),
                          order_tool()])
    with caplog.at_level(logging.WARNING, logger="parley.tools"):
        broken = await tools.call("broken", {"number": "1"}, conversation="c9")
        slow = await tools.call("slow", {"number": "1"})
        wrong = await tools.call("order_status", {"number": "1", "extra": 2}, skill="orders")
        monkeypatch.delenv("ORDERS_API")
        unset = await tools.call("order_status", {"number": "1"})
    assert not broken.ok and not broken.not_found and "HTTP 500" in broken.error
    assert not slow.ok and "no answer within 0.5 s" in slow.error
    assert wrong.refused and "unknown argument(s) ['extra']" in wrong.error
    assert not unset.ok and "environment variable ORDERS_API is not set" in unset.error
    assert "HTTP 500" in caplog.records[0].getMessage()
    assert "conversation=c9" in caplog.records[0].getMessage()
    assert caplog.records[2].getMessage() == (
        "tool call refused: tool=order_status skill=orders conversation=- "
        "reason=unknown argument(s) ['extra']")
    assert len(caplog.records) == 4


async def test_a_caller_may_use_only_its_allowed_tools(env: ApiStub) -> None:
    tools = ToolRegistry([order_tool()])
    refused = await tools.call("order_status", {"number": "10045"}, allowed=["other"])
    unknown = await tools.call("rm_rf", {})
    assert "not a tool this skill may call" in refused.error and env.requests == []
    assert refused.refused and unknown.refused


async def test_python_tool_arguments_are_checked_against_its_signature() -> None:
    @tool
    def stock(sku: str, quantity: int) -> int:
        """Units in stock."""
        return quantity

    tools = ToolRegistry(python={"stock": stock})
    assert tools.check("stock", {"sku": "T-1", "quantity": 2}) is None
    assert tools.check("stock", {"sku": "T-1", "quantity": 2, "admin": True}) == (
        "unknown argument(s) ['admin']")
    assert "argument 'quantity'" in (tools.check("stock", {"sku": "T-1", "quantity": "x"}) or "")
    assert "argument 'quantity'" in (tools.check("stock", {"sku": "T-1"}) or "")
    assert (await tools.call("stock", {"sku": "T-1", "quantity": "many"})).refused


TOOL_FILE = '''
from langchain_core.tools import tool

from ._catalog import PRICES


@tool
def price(product: str) -> str:
    """The price of a product."""
    return PRICES.get(product.lower(), "unknown")


@tool
def crash(product: str) -> str:
    """Always fails."""
    raise RuntimeError("catalog offline")
'''


async def test_python_tools_load_from_the_bot_folder_under_a_private_name(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "catalog.py").write_text(TOOL_FILE)
    (tmp_path / "tools" / "_catalog.py").write_text('PRICES = {"tent": "$199"}\n')
    found = load_python_tools(tmp_path / "tools")
    assert sorted(found) == ["crash", "price"]
    assert found["price"].func.__module__.startswith("_parley_tools_")  # type: ignore[attr-defined]
    tools = ToolRegistry(python=found)
    assert (await tools.call("price", {"product": "Tent"})).data == "$199"
    failed = await tools.call("crash", {"product": "x"})
    assert not failed.ok and "catalog offline" in failed.error
    assert tools.schemas(["price"])[0]["function"]["name"] == "price"


def test_a_broken_tool_file_is_reported_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "bad.py").write_text("x = 1\nraise ValueError('nope')\n")
    with pytest.raises(ConfigError) as caught:
        load_python_tools(tmp_path / "tools")
    assert str(caught.value).endswith("bad.py:2:1: cannot import: ValueError: nope")


TYPED = HttpTool.model_validate({
    "name": "typed", "description": "d", "url": "https://api.example/{name}",
    "args": {"name": {}, "count": {"type": "integer"}, "gift": {"type": "boolean"},
             "weight": {"type": "number"}}})
GOOD = {"name": "Ann", "count": 2, "gift": False, "weight": 1.5}


@pytest.mark.parametrize(("argument", "value"), [
    ("name", {"admin": True}), ("name", ["a", "b"]), ("name", True), ("gift", "no"),
    ("gift", "true"), ("gift", 1), ("count", True), ("count", "2"), ("count", 2.5),
    ("count", {"n": 2}), ("weight", "1.5"), ("weight", False),
])
def test_a_models_arguments_must_already_be_of_their_type(argument: str, value: object) -> None:
    """An object or list is no string, a word no boolean, True no integer: refused."""
    tools = ToolRegistry([TYPED])
    assert tools.check("typed", GOOD) is None
    assert tools.check("typed", {**GOOD, "name": 10045}) is None  # a number's digits
    reason = tools.check("typed", {**GOOD, argument: value}) or ""
    assert f"argument {argument!r} should be" in reason


def test_a_forms_typed_in_values_are_converted() -> None:
    tools = ToolRegistry([TYPED])
    assert tools.check("typed", {**GOOD, "count": "2", "gift": "true"}, strict=False) is None
    assert tools.check("typed", {**GOOD, "gift": "no"}, strict=False) is not None


def test_python_tool_arguments_of_a_model_are_checked_strictly() -> None:
    @tool
    def stock(sku: str, quantity: int) -> int:
        """Units in stock."""
        return quantity

    tools = ToolRegistry(python={"stock": stock})
    assert tools.check("stock", {"sku": "T-1", "quantity": True}) is not None
    assert tools.check("stock", {"sku": ["T-1"], "quantity": 1}) is not None
