"""robots.txt, honoured by the web fetcher on a real site on 127.0.0.1."""

from __future__ import annotations

import pytest

from parley_bot.knowledge.netguard import Scope
from parley_bot.knowledge.web import PageError, WebFetcher
from tests.knowledge.builders import html_page
from tests.utils.site import Site

ROBOTS = """User-agent: *
Disallow: /

User-agent: parley-ingest
Disallow: /staff/
Allow: /
"""


def load(web: WebFetcher, site: Site, path: str) -> None:
    web.load(site.url(path), Scope(site.url("/"), "help", allow_private=True))


def test_the_group_for_parley_applies_and_robots_txt_is_read_once(site: Site) -> None:
    site.write("/robots.txt", ROBOTS)
    site.write("/returns.html", html_page("Returns", "<p>Sixty days.</p>"))
    site.write("/staff/rota.html", html_page("Rota", "<p>Shifts.</p>"))
    with WebFetcher() as web:
        load(web, site, "/returns.html")
        with pytest.raises(PageError) as caught:
            load(web, site, "/staff/rota.html")
    assert (caught.value.reason, caught.value.transient) == ("disallowed by robots.txt", False)
    assert site.fetched("/robots.txt") == ["/robots.txt"]
    assert "/staff/rota.html" not in site.fetched()


def test_the_star_group_applies_when_none_names_parley(site: Site) -> None:
    site.write("/robots.txt", "User-agent: *\nDisallow: /drafts/\n")
    site.write("/drafts/new.html", html_page("New", "<p>Soon.</p>"))
    with WebFetcher() as web, pytest.raises(PageError, match=r"disallowed by robots\.txt"):
        load(web, site, "/drafts/new.html")


def test_a_missing_robots_txt_allows_everything(site: Site) -> None:
    site.write("/returns.html", html_page("Returns", "<p>Sixty days.</p>"))
    with WebFetcher() as web:
        load(web, site, "/returns.html")
    assert site.answers[0] == ("/robots.txt", 404)


def test_a_failing_robots_txt_refuses_the_site_for_now(site: Site) -> None:
    site.write("/returns.html", html_page("Returns", "<p>Sixty days.</p>"))
    site.status["/robots.txt"] = 503
    with WebFetcher() as web, pytest.raises(PageError) as caught:
        load(web, site, "/returns.html")
    assert caught.value.reason == "robots.txt could not be read: HTTP 503"
    assert caught.value.transient  # indexed copies are kept until it answers
    assert site.fetched() == []
