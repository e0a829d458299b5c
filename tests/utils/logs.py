"""Capture log output as parley's CLI writes it: through a handler carrying the safe filter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from parley_bot.agents import safelog


@contextmanager
def safe_log(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Records of every logger at `level` and above, formatted into the yielded buffer by a
    handler with `safelog`'s filter installed, as `parley` installs it on its own. Personal
    data is redacted only once a bot opens inside the block (or the test sets a redactor)."""
    safelog.redact_with(None)  # whatever a bot opened by an earlier test left configured
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    safelog.install(handler)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        safelog.redact_with(None)
