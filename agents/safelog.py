"""Log records that cannot lie and cannot leak: one filter every parley handler carries.

    escaped    control characters, line and paragraph separators and bidi overrides in the
               message become visible escapes (\\n, \\x1b, \\u202e): a conversation id or a
               user's text can never end one record and pose as the next; a traceback's
               lines are indented under the record they belong to
    secrets    values of secret-named environment variables (…KEY, …TOKEN, …SECRET,
               …PASSWORD), values handed to `hide()` (API keys as they are read), and the
               shapes of common API keys and bearer tokens become <SECRET>
    redacted   personal data, once a bot has said how (`redact_with`, from `privacy:`)

Install it on a handler (`install(handler)`), not on a logger: a logger's filters skip the
records of its child loggers, a handler's see them all. The filter rewrites the record in
place (message formatted, args cleared), so every formatter after it, text or JSON, gets the
clean text.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL", re.IGNORECASE)
_MIN_SECRET = 8  # shorter values ('true', '1') would mask ordinary words
_SECRET_SHAPES = re.compile(
    r"\b(?:sk|rk|pk)-[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic (sk-ant-…), Stripe-style keys
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\bxapp-[A-Za-z0-9-]{10,}"  # Slack app-level tokens
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{12,}=*"  # Authorization: Bearer …
)
SECRET = "<SECRET>"

_hidden: set[str] = set()
_redact: Callable[[str], str] | None = None
# Every value to mask, longest first, and the environment it was read from: rebuilt only
# when `hide` adds a value or the environment changed (compared as CPython's raw mapping,
# in C), not for every string of every record.
_ordered: tuple[dict[bytes, bytes] | None, list[str]] | None = None
_traceback = logging.Formatter()


def hide(value: str) -> None:
    """Never log `value` (an API key, token or signing secret read from anywhere)."""
    global _ordered
    if len(value) >= _MIN_SECRET:
        _hidden.add(value)
        _ordered = None


def redact_with(redact: Callable[[str], str] | None) -> None:
    """Redact personal data in every record from now on with `redact` (None: stop)."""
    global _redact
    _redact = redact


def escape(text: str) -> str:
    """`text` on one line: control and direction-changing characters as escapes."""
    return _CONTROL.sub(_escaped, text)


def scrub(text: str) -> str:
    """`text` without secrets, and without personal data when `redact_with` set a redactor.
    Not escaped: `escape` that separately, or use `clean`."""
    for value in _secrets():
        text = text.replace(value, SECRET)
    text = _SECRET_SHAPES.sub(SECRET, text)
    return _redact(text) if _redact is not None else text


def clean(text: str) -> str:
    """What a log line may show of `text`: scrubbed and escaped."""
    return escape(scrub(text))


class SafeLogFilter(logging.Filter):
    """Scrubs and escapes every record a handler emits; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad %-args: show what was logged rather than lose it
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = clean(message), None
        fields = getattr(record, "fields", None)  # structured values: scrubbed, the
        if isinstance(fields, dict):  # formatter escapes them as its format needs
            record.fields = {k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()}
        if record.exc_info:  # rebuilt even if set: another handler's formatter caches it raw
            record.exc_text = _block(_traceback.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = _block(record.stack_info)
        return True


def install(handler: logging.Handler) -> SafeLogFilter:
    """Add the filter to `handler` (once) and return it."""
    for existing in handler.filters:
        if isinstance(existing, SafeLogFilter):
            return existing
    safe = SafeLogFilter()
    handler.addFilter(safe)
    return safe


def _block(text: str) -> str:
    """A multi-line block (a traceback) scrubbed, each line escaped and indented, so no line
    of it can pass for a record of its own."""
    return "\n".join("  " + escape(line) for line in scrub(text).split("\n"))


def _secrets() -> list[str]:
    """`hide`'s values and the secret-named environment variables' values, longest first."""
    global _ordered
    environment: dict[bytes, bytes] | None = getattr(os.environ, "_data", None)
    if _ordered is None or environment is None or _ordered[0] != environment:
        ordered = sorted(_hidden | _env_secrets(), key=len, reverse=True)
        _ordered = (dict(environment) if environment is not None else None, ordered)
    return _ordered[1]


def _env_secrets() -> set[str]:
    return {value for name, value in os.environ.items()
            if _SECRET_NAME.search(name) and len(value) >= _MIN_SECRET}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
