"""The widget in a real browser: Debian's Chromium driven by Playwright, against a real
`parley serve`. Screenshots are kept in the test's tmp folder (their paths are printed)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from tests.agents.test_confirm import ASK, CANCEL, ORDERS, RETURNS
from tests.conftest import configure, stub_model
from tests.utils.api_stub import ApiStub
from tests.utils.cli import free_port, serving
from tests.utils.openai_stub import OpenAIStub, ToolCall

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="needs Debian's chromium (make test installs it)")
SECRET = "browser-test-session-secret"
SIZE = {"name": "size", "type": "choice", "choices": ["S", "M", "L"], "question": "Which size?"}
HOSTILE = """<!doctype html><html><head><style>
* { all: unset !important; } div { display: none !important; }
</style></head><body><p>A page that fights back.</p>
<script>Object.prototype.polluted = "yes"; Object.prototype.method = "DELETE";
Object.prototype.headers = {"X-Evil": "1"}; Object.prototype.token = "forged";</script>
<script src="{base}/widget.js" data-title="Acme Outdoor help" async></script>
<script>addEventListener("load", () => { window.fetch = () => Promise.reject(new Error("no"));
JSON.stringify = () => "{}"; window.fetchBroken = true; });</script>
</body></html>"""

WRAPPED = """<!doctype html><html><head>
<script>window.seen = []; const realFetch = window.fetch, realParse = JSON.parse;
window.fetch = (url, init) => { window.seen.push(String(url) + " " + JSON.stringify(init));
  return realFetch(url, init); };
JSON.parse = (text) => { window.seen.push(text); return realParse(text); };
Storage.prototype.getItem = function (key) { window.seen.push(key); return null; };</script>
<script src="{base}/widget.js" data-title="Acme Outdoor help" async></script>
</head><body><p>A page that wraps fetch before the widget loads.</p></body></html>"""


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A site of its own (folder, origin) that embeds the widget and is allowed to."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    with static_site(folder) as origin:
        yield folder, origin


@pytest.fixture
def bot(bot_dir: Path, api_stub: ApiStub, hostile: tuple[Path, str]) -> Iterator[str]:
    """`parley serve` on the example bot, its order form asking a size with buttons; the
    hostile site is an allowed origin."""
    yaml = YAML()
    data = yaml.load(bot_dir / "flows.yaml")
    data["skills"][0]["slots"].append(SIZE)
    data["channels"] = {"web": {"allowed_origins": [hostile[1]]}}
    data["knowledge"]["sources"][0]["base_url"] = "https://acme.example/help"
    yaml.dump(data, bot_dir / "flows.yaml")
    with serving(bot_dir, env={"ACME_API": api_stub.base_url,
                               "PARLEY_SESSION_SECRET": SECRET}) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """A plain static site on another port: another origin than the bot's."""
    port = free_port()
    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS")
                 or Path(__file__).parents[2] / ".parley" / "test-artifacts")


def shot(page: sync_api.Page, name: str) -> None:
    """A screenshot to look at, kept after the run: in $PARLEY_ARTIFACTS, else the repo's
    .parley/test-artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")


def ask(page: sync_api.Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


def answers(page: sync_api.Page) -> sync_api.Locator:
    return page.locator("div[data-parley] .msg.bot")


def test_a_visitor_asks_taps_a_quick_reply_reloads_and_rates(
    bot: str, browser: sync_api.Browser,
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    page.goto(bot + "/")
    bubble = page.get_by_role("button", name="Open chat: Acme Outdoor help")
    bubble.focus()
    page.keyboard.press("Enter")  # keyboard only
    with page.expect_response(bot + "/web/chat") as chat:
        ask(page, "how long do I have to return boots?")
    # The events themselves are checked over HTTP (test_web.py): Chromium may no longer hold
    # the body of a stream its frame has finished reading.
    assert chat.value.status == 200
    assert chat.value.headers["content-type"].startswith("text/event-stream")
    sync_api.expect(answers(page).last).to_contain_text("60 days")
    link = answers(page).last.get_by_role("link", name="Returns")
    sync_api.expect(link).to_have_attribute("href", "https://acme.example/help/returns#time-limits")
    shot(page, "answered")

    ask(page, "where is my order?")
    sync_api.expect(answers(page).last).to_contain_text("order number")
    ask(page, "10045")
    ask_when = answers(page).last
    sync_api.expect(ask_when).to_contain_text("e-mail")
    ask(page, "ann@example.com")
    sync_api.expect(answers(page).last).to_contain_text("Which size?")
    quick = page.get_by_role("group", name="Quick replies")
    shot(page, "quick-replies")
    quick.get_by_role("button", name="M").click()
    sync_api.expect(answers(page).last).to_contain_text("Order 10045 is shipped")

    page.reload()
    page.get_by_role("button", name="Open chat: Acme Outdoor help").click()
    sync_api.expect(answers(page)).to_have_count(5)  # the conversation is back
    sync_api.expect(answers(page).first).to_contain_text("60 days")
    with page.expect_response(bot + "/web/feedback") as rated:
        answers(page).first.get_by_role("button", name="Helpful", exact=True).click()
    assert rated.value.status == 204
    sync_api.expect(answers(page).first.get_by_role("button", name="Helpful", exact=True)
                    ).to_have_attribute("aria-pressed", "true")
    shot(page, "reloaded-and-rated")

    token = page.evaluate(f"localStorage.getItem('parley:{bot}')")
    history = httpx.get(bot + "/web/history", headers={"Authorization": f"Bearer {token}"})
    assert history.json()["turns"][0]["rating"] == 1  # stored with the turn

    page.get_by_role("button", name="Start a new conversation").click()
    sync_api.expect(answers(page)).to_have_count(0)
    page.wait_for_function(f"localStorage.getItem('parley:{bot}') !== {token!r}")
    ask(page, "when are you open?")
    sync_api.expect(answers(page)).to_have_count(1)

    page.keyboard.press("Escape")
    sync_api.expect(page.get_by_role("dialog")).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('[data-parley]')")  # focus went back


def test_on_a_phone_the_chat_fills_the_screen(
    bot: str, browser: sync_api.Browser,
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True)
    page.goto(bot + "/")
    page.get_by_role("button", name="Open chat: Acme Outdoor help").tap()
    ask(page, "how much is shipping?")
    sync_api.expect(answers(page).last).not_to_have_class("msg bot typing")
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None and (box["width"], box["height"]) == (390, 844)
    shot(page, "phone")


def test_a_page_of_another_origin_gets_no_session(
    bot: str, browser: sync_api.Browser, tmp_path: Path,
) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text(
        f'<!doctype html><p>Elsewhere</p><script src="{bot}/widget.js" async></script>')
    with static_site(www) as other:
        page = browser.new_page()
        page.goto(other + "/")
        page.get_by_role("button", name="Open chat: Chat with us").click()
        # the browser's CORS preflight is refused, so the session request never leaves it
        sync_api.expect(page.get_by_role("alert")).to_contain_text("Can't reach")
        ask(page, "hello?")  # fails the same way: one message with one Retry, not two
        sync_api.expect(page.locator("div[data-parley] .msg.user")).to_have_count(1)
        sync_api.expect(page.get_by_role("alert")).to_have_count(1)
        sync_api.expect(page.get_by_role("button", name="Retry")).to_have_count(1)
        shot(page, "other-origin")
        refused = httpx.post(bot + "/web/session", json={}, headers={"Origin": other})
        assert refused.status_code == 403
        assert page.evaluate(f"localStorage.getItem('parley:{bot}')") is None


def test_a_hostile_page_does_not_break_the_widget(
    bot: str, hostile: tuple[Path, str], browser: sync_api.Browser,
) -> None:
    folder, origin = hostile
    (folder / "index.html").write_text(HOSTILE.replace("{base}", bot))
    page = browser.new_page()
    page.goto(origin + "/")
    page.wait_for_function("window.fetchBroken === true")  # the page broke fetch after load
    page.get_by_role("button", name="Open chat: Acme Outdoor help").click()
    ask(page, "how long do I have to return boots?")
    sync_api.expect(answers(page).last).to_contain_text("60 days")
    sync_api.expect(page.get_by_role("dialog")).to_be_visible()
    shot(page, "hostile")


def test_a_page_wrapping_fetch_before_the_widget_loads_never_sees_its_requests(
    bot: str, hostile: tuple[Path, str], browser: sync_api.Browser,
) -> None:
    """The wrappers pass everything through, so only the record shows who was called."""
    folder, origin = hostile
    (folder / "index.html").write_text(WRAPPED.replace("{base}", bot))
    page = browser.new_page()
    page.goto(origin + "/")
    page.get_by_role("button", name="Open chat: Acme Outdoor help").click()
    ask(page, "how long do I have to return boots?")
    sync_api.expect(answers(page).last).to_contain_text("60 days")
    shot(page, "wrapped-fetch")
    assert page.evaluate("window.seen") == []


def test_what_is_typed_or_tapped_while_an_answer_arrives_is_kept(
    bot: str, browser: sync_api.Browser,
) -> None:
    """The first answer is held back by the test, so it is surely still arriving."""
    page = browser.new_page()
    held: list[sync_api.Route] = []

    def hold(route: sync_api.Route) -> None:
        held.append(route)

    page.route(bot + "/web/chat", hold)
    page.goto(bot + "/")
    page.get_by_role("button", name="Open chat: Acme Outdoor help").click()
    box = page.get_by_role("textbox", name="Your message")
    ask(page, "where is my order?")
    while not held:
        page.wait_for_timeout(20)  # until the widget's request reaches the route
    sync_api.expect(page.get_by_role("button", name="Send")).to_be_disabled()
    ask(page, "and the returns policy?")
    sync_api.expect(box).to_have_value("and the returns policy?")  # not cleared, not lost
    held[0].continue_()
    page.unroute(bot + "/web/chat", hold)
    sync_api.expect(answers(page).last).to_contain_text("order number")
    sync_api.expect(page.get_by_role("button", name="Send")).to_be_enabled()
    shot(page, "kept-while-busy")
    box.press("Enter")
    sync_api.expect(page.locator("div[data-parley] .msg.user")).to_have_count(2)
    sync_api.expect(box).to_have_value("")


@pytest.fixture
def cancelling_bot(bot_dir: Path, api_stub: ApiStub, openai_stub: OpenAIStub) -> Iterator[str]:
    """`parley serve` with an agent skill whose only tool, cancel_order, is `confirm: true`;
    the stand-in model proposes the call and, given its result, says it is done."""
    def reply(request: dict[str, Any]) -> str | list[ToolCall]:
        if not any(message["role"] == "tool" for message in request["messages"]):
            return [ToolCall("cancel_order", {"number": "10045"})]
        return "Order 10045 is cancelled."

    openai_stub.reply = reply
    configure(bot_dir, skills=[RETURNS, ORDERS], tools=[CANCEL], model=stub_model(openai_stub))
    with serving(bot_dir, env={"ORDERS_API": api_stub.base_url,
                               "PARLEY_SESSION_SECRET": SECRET}) as base:
        yield base


def test_a_confirm_tool_runs_on_yes_and_not_on_no(
    cancelling_bot: str, api_stub: ApiStub, browser: sync_api.Browser,
) -> None:
    """The stand-in API's own record says what ran: nothing after No, one call after Yes."""
    page = browser.new_page()
    page.goto(cancelling_bot + "/")
    page.get_by_role("button", name="Open chat: Acme Outdoor help").click()
    quick = page.get_by_role("group", name="Quick replies")

    ask(page, ASK)
    sync_api.expect(answers(page).last).to_contain_text("Shall I do it?")
    sync_api.expect(quick.get_by_role("button", name="Yes")).to_be_visible()
    sync_api.expect(quick.get_by_role("button", name="No")).to_be_visible()
    shot(page, "confirm-asked")
    quick.get_by_role("button", name="No").click()
    sync_api.expect(answers(page).last).to_contain_text("I haven't done it")
    assert api_stub.requests == []

    ask(page, ASK)
    sync_api.expect(answers(page).last).to_contain_text("Shall I do it?")
    assert api_stub.requests == []  # asking runs nothing either
    page.get_by_role("group", name="Quick replies").last.get_by_role(
        "button", name="Yes").click()
    sync_api.expect(answers(page).last).to_contain_text("Order 10045 is cancelled.")
    shot(page, "confirm-done")
    assert [(r["method"], r["path"]) for r in api_stub.requests] == [
        ("POST", "/echo/cancel/10045")]
