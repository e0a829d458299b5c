"""Quick replies on a channel that has no buttons: offered as a numbered list, and a reply of
just a number picks that option.

The options offered last are kept in the store per conversation, so the answer '2' means
the same thing in whichever worker process takes it, and only until the next offer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from parley_bot.agents.shared import SharedState
from parley_bot.channels.messages import Button

OFFER_TTL_S = 24 * 3600
"""How long an offer stands: WhatsApp's session window."""
_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


class Choices:
    """The options last offered in each conversation."""

    def __init__(self, store: SharedState) -> None:
        self._store = store

    async def offer(self, key: str, buttons: Sequence[Button]) -> None:
        """Remember `buttons` as conversation `key`'s options (none: forget the last ones)."""
        if buttons:
            values = json.dumps([b.value for b in buttons])
            await self._store.put(_key(key), values, OFFER_TTL_S)
        else:
            await self._store.delete(_key(key))

    async def pick(self, key: str, text: str) -> str:
        """The value of the option `text` numbers ('2', '2.'), or `text` itself when it is not
        the number of an option offered in this conversation."""
        number = _NUMBER.fullmatch(text)
        if number is None:
            return text
        stored = await self._store.get(_key(key))
        values: list[str] = json.loads(stored) if stored else []
        index = int(number.group(1))
        return values[index - 1] if 1 <= index <= len(values) else text


def _key(conversation: str) -> str:
    return f"choices:{conversation}"
