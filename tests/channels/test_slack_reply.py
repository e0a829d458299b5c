"""A reply streamed into Slack, against the stand-in Web API: a stream where Slack allows
one, else a placeholder edited as the text grows; a reset takes back what was shown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from parley_bot.channels.messages import (
    Button,
    OutboundMessage,
    StreamChunk,
    StreamReset,
)
from parley_bot.channels.slack_reply import Streaming, Where, post_reply
from tests.utils.slack_stub import TOKEN, SlackStub, serving

WHERE = Where("C1", "1700000000.000100", "T1", "U1")
REPLY = OutboundMessage(conversation_id="T1:C1:1", text="We open **at nine**.",
                        buttons=(Button(label="Thanks", value="thanks"),), turn_id="t1")


@pytest.fixture
def slack() -> Iterator[SlackStub]:
    with serving() as stub:
        yield stub


async def written(*items: StreamChunk | StreamReset | OutboundMessage
                  ) -> AsyncIterator[StreamChunk | StreamReset | OutboundMessage]:
    for item in items:
        yield item


def chunks(*deltas: str) -> list[StreamChunk]:
    return [StreamChunk(conversation_id="T1:C1:1", delta=d) for d in deltas]


def client(slack: SlackStub) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.base_url)


def methods(slack: SlackStub) -> list[str]:
    return [name for name, _, _ in slack.calls]


async def test_a_stream_gets_the_new_text_each_time_and_ends_with_the_buttons(
        slack: SlackStub) -> None:
    posted = await post_reply(client(slack), WHERE, written(
        *chunks("We open ", "**at nine**."), REPLY), Streaming(), interval=0)
    assert methods(slack) == ["chat.startStream", "chat.appendStream", "chat.appendStream",
                              "chat.stopStream"]
    assert [a["markdown_text"] for a in slack.called("chat.appendStream")] == [
        "We open ", "**at nine**."]
    [stop] = slack.called("chat.stopStream")
    assert "markdown_text" not in stop and stop["blocks"][0]["type"] == "actions"
    assert posted.ts == stop["ts"] and posted.reply == REPLY


async def test_updates_are_throttled(slack: SlackStub) -> None:
    await post_reply(client(slack), WHERE, written(*chunks("We ", "open ", "**at nine**."), REPLY),
                     Streaming(), interval=3600)
    assert methods(slack) == ["chat.startStream", "chat.stopStream"]  # all of it at the end
    assert slack.called("chat.stopStream")[0]["markdown_text"] == REPLY.text


async def test_a_reset_stream_is_stopped_and_edited_into_the_reply(slack: SlackStub) -> None:
    await post_reply(client(slack), WHERE, written(
        *chunks("Half an answer"), StreamReset(conversation_id="T1:C1:1"),
        *chunks("We open ", "**at nine**."), REPLY), Streaming(), interval=0)
    assert methods(slack) == ["chat.startStream", "chat.appendStream", "chat.stopStream",
                              "chat.update", "chat.update", "chat.update"]
    progress, final = slack.called("chat.update")[1:]
    assert progress["text"] == "We open *at nine*. …"
    assert final["text"] == REPLY.as_text() and final["blocks"][0]["text"]["text"] == (
        "We open *at nine*.")


async def test_without_streams_a_placeholder_is_edited_as_the_text_grows(
        slack: SlackStub) -> None:
    await post_reply(client(slack), WHERE, written(
        *chunks("We open ", "**at nine**."), REPLY), Streaming(enabled=False), interval=0)
    assert methods(slack) == ["chat.postMessage", "chat.update", "chat.update", "chat.update"]
    assert [u["text"] for u in slack.called("chat.update")[:2]] == [
        "We open …", "We open *at nine*. …"]


async def test_a_reply_unlike_what_was_streamed_replaces_it(slack: SlackStub) -> None:
    await post_reply(client(slack), WHERE, written(*chunks("We open at ten."), REPLY),
                     Streaming(), interval=0)
    assert methods(slack) == ["chat.startStream", "chat.appendStream", "chat.stopStream",
                              "chat.update"]
    assert "markdown_text" not in slack.called("chat.stopStream")[0]
    assert slack.called("chat.update")[0]["blocks"][0]["text"]["text"] == "We open *at nine*."


async def test_a_refused_progress_update_still_ends_in_the_reply(slack: SlackStub) -> None:
    slack.errors["chat.appendStream"] = "internal_error"
    posted = await post_reply(client(slack), WHERE, written(
        *chunks("We open ", "**at nine**."), REPLY), Streaming(), interval=0)
    assert methods(slack) == ["chat.startStream", "chat.appendStream", "chat.appendStream",
                              "chat.stopStream"]
    # the first piece was refused, so the second append carries it too
    assert [a["markdown_text"] for a in slack.called("chat.appendStream")] == [
        "We open **at nine**."]
    assert slack.called("chat.stopStream")[0]["blocks"][0]["type"] == "actions"
    assert posted.reply == REPLY


async def test_a_refused_edit_still_ends_in_the_reply(slack: SlackStub) -> None:
    slack.errors["chat.update"] = "msg_too_long"
    await post_reply(client(slack), WHERE, written(*chunks("We open "), REPLY),
                     Streaming(enabled=False), interval=0)
    [final] = slack.called("chat.update")
    assert final["blocks"][0]["text"]["text"] == "We open *at nine*."


async def test_a_refused_end_of_stream_is_replaced_by_the_reply(slack: SlackStub) -> None:
    slack.errors["chat.stopStream"] = "internal_error"
    await post_reply(client(slack), WHERE, written(*chunks("We open "), REPLY),
                     Streaming(), interval=0)
    assert methods(slack)[-2:] == ["chat.stopStream", "chat.update"]
    assert slack.called("chat.update")[0]["blocks"][-1]["type"] == "actions"


async def test_a_failing_bot_stream_ends_in_the_error_answer(slack: SlackStub) -> None:
    async def failing() -> AsyncIterator[StreamChunk | StreamReset | OutboundMessage]:
        yield chunks("We open ")[0]
        raise RuntimeError("the model went away")
    posted = await post_reply(client(slack), WHERE, failing(), Streaming(), interval=0,
                              error_text="Sorry, try again.")
    assert posted.reply.text == "Sorry, try again."
    assert slack.called("chat.update")[0]["text"] == "Sorry, try again."


@pytest.mark.parametrize(("error", "still_on"), [
    ("internal_error", True), ("fatal_error", True), ("channel_not_found", True),
    ("not_allowed_token_type", False), ("missing_scope", False), ("unknown_method", False)])
async def test_only_a_refusal_of_streams_turns_them_off(slack: SlackStub, error: str,
                                                       still_on: bool) -> None:
    slack.errors["chat.startStream"] = error
    streaming = Streaming()
    await post_reply(client(slack), WHERE, written(REPLY), streaming, interval=0)
    assert methods(slack) == ["chat.startStream", "chat.postMessage", "chat.update"]
    assert streaming.enabled is still_on
