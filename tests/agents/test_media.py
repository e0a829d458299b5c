"""Fetching the files users send: only from the platform's hosts, credentials only to them,
no private address but the configured one, the size limit held while the file streams in.
Served by the stand-in Twilio (its API on one port, its media CDN on another)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from parley_bot.agents.config import BotTexts
from parley_bot.agents.media import MediaError, MediaFetcher, MediaSource, origin_of, refusal
from parley_bot.agents.texts import localize
from parley_bot.channels.messages import Attachment
from tests.utils.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub, serving

PDF = b"%PDF-1.4\n" + b"0" * 2_000


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    with serving(TwilioStub(), cdn=True) as stub:
        yield stub


def fetch(source: MediaSource, url: str, max_bytes: int = 10_000) -> Attachment:
    fetcher = MediaFetcher(source)
    try:
        return asyncio.run(fetcher.fetch(url, "application/pdf", max_bytes=max_bytes))
    finally:
        fetcher.close()


def twilio_source(stub: TwilioStub, *, cdn_private_ok: bool = True) -> MediaSource:
    """Twilio's API at the stand-in; its CDN (another port) may be reached, credentials-free."""
    api = origin_of(stub.url)
    cdn = origin_of(f"http://127.0.0.1:{stub.cdn_port}")
    assert api is not None and cdn is not None
    private = {api, cdn} if cdn_private_ok else {api}
    return MediaSource(origins=frozenset({api}), auth=(ACCOUNT_SID, AUTH_TOKEN),
                       private_ok=frozenset(private))


def test_a_redirect_to_another_host_drops_the_credentials(twilio: TwilioStub) -> None:
    twilio.media["ME1"] = ("application/pdf", PDF)
    attachment = fetch(twilio_source(twilio), twilio.media_url("ME1"))
    assert attachment.content_type == "application/pdf"
    assert twilio.media_fetches == [
        f"{twilio.port}{twilio.media_url('ME1').removeprefix(twilio.url)} auth=True",
        f"{twilio.cdn_port}/media-host/ME1 auth=False",
    ]


def test_a_url_not_on_the_platforms_hosts_is_never_requested(twilio: TwilioStub) -> None:
    twilio.media["ME1"] = ("application/pdf", PDF)
    for url in (f"http://127.0.0.1:{twilio.cdn_port}/media-host/ME1",
                "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"):
        with pytest.raises(MediaError, match="not on the platform's media hosts"):
            fetch(twilio_source(twilio), url)
    assert twilio.media_fetches == []


def test_a_redirect_to_a_private_address_is_refused(twilio: TwilioStub) -> None:
    twilio.media["ME1"] = ("application/pdf", PDF)
    with pytest.raises(MediaError, match="loopback"):
        fetch(twilio_source(twilio, cdn_private_ok=False), twilio.media_url("ME1"))
    assert [f.split("/")[0] for f in twilio.media_fetches] == [str(twilio.port)]


def test_missing_media_is_an_error(twilio: TwilioStub) -> None:
    with pytest.raises(MediaError, match="404") as caught:
        fetch(twilio_source(twilio), twilio.media_url("ME404"))
    assert not caught.value.too_large


def test_a_file_without_a_length_is_stopped_at_the_limit(twilio: TwilioStub) -> None:
    twilio.media["ME1"] = ("application/pdf", PDF)
    twilio.unsized.add("ME1")
    with pytest.raises(MediaError) as caught:
        fetch(twilio_source(twilio), twilio.media_url("ME1"), max_bytes=1_000)
    assert caught.value.too_large
    assert fetch(twilio_source(twilio), twilio.media_url("ME1")).url.startswith(
        "data:application/pdf;base64,")


def test_refusals_are_told_in_the_users_language() -> None:
    texts = BotTexts()
    large = refusal(MediaError("x", too_large=True), texts, "en", 1_000)
    assert large == "Sorry, that file is too large for me (the limit is 0.001 MB)."
    assert refusal(MediaError("x"), texts, "en", 1_000) == localize(texts.attachment_failed)
