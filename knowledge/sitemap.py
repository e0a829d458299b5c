"""Read a sitemap (or sitemap index), plain or gzipped, into its `<loc>` URLs.

Parsed with the standard library's expat parser, which fetches no external entities and
(expat >= 2.4) refuses entity-expansion bombs; a gzipped one is inflated to at most
`max_bytes`. Which of the URLs may be fetched is the fetcher's call, not this module's.
"""

from __future__ import annotations

import zlib
from xml.etree import ElementTree

from parley_bot.agents.errors import KnowledgeError

_GZIP_MAGIC = b"\x1f\x8b"


def parse_sitemap(content: bytes, max_bytes: int) -> tuple[str, list[str]]:
    """('urlset' or 'sitemapindex', every `<loc>` in order, stripped, empty ones left out).

    Raises:
        KnowledgeError: not a sitemap, unreadable XML, or larger than `max_bytes` inflated.
    """
    if content[:2] == _GZIP_MAGIC:  # a sitemap.xml.gz served as a file
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        content = inflate.decompress(content, max_bytes)
        if inflate.unconsumed_tail:
            raise KnowledgeError(f"sitemap larger than {max_bytes:,} bytes")
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise KnowledgeError(f"not a readable sitemap ({exc})") from exc
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise KnowledgeError(f"not a sitemap (root element <{kind}>)")
    locations = [(loc.text or "").strip() for entry in root for loc in entry
                 if _local(loc.tag) == "loc"]
    return kind, [location for location in locations if location]


def _local(tag: str) -> str:
    """An XML tag without its namespace: '{http://www.sitemaps.org/...}loc' is 'loc'."""
    return tag.rpartition("}")[2]
