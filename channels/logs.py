"""Log output for parley's commands: one line per record, as text on a terminal or as JSON lines.

Every record is a message plus optional structured fields, passed as
`log.info("turn", extra={"fields": {...}})` (the per-turn line of `agents.telemetry` is one).
The text form prints `key=value` after the message, the JSON form merges the fields into the
object. Every record first passes `agents.safelog`'s filter (secrets hidden, personal data
redacted, the message escaped); the formatters escape the field values their own way (quoted
in text, JSON escapes in JSON, so values round-trip), so one record is always one line and
nobody can forge another. A traceback is appended to a text record, a field of a JSON one.

`log_config()` is a `logging.config.dictConfig` dict used for parley's own logs and handed to
uvicorn as its `log_config`, so access and server logs come out in the same format, through
the same filter, in every worker process. The formatters are small subclasses of the
standard ones: a JSON-logging library would still need these escaping and field rules.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from datetime import datetime
from typing import Any, Literal

from parley_bot.agents.safelog import SafeLogFilter, escape

LogFormat = Literal["text", "json"]
LEVELS = ("debug", "info", "warning", "error")
# Chatty at INFO; their warnings still show. At debug level they speak too.
NOISY = ("httpx", "httpcore", "openai", "aiosqlite", "urllib3", "twilio")


# What `escape` would rewrite (line breaks, control and bidi characters), as JSON escapes:
# json.dumps leaves those above U+001F raw.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in range(0x3000) if escape(chr(c)) != chr(c)}


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text and not any(c in text for c in ' "=\\') and text == escape(text):
        return text
    return _json(text)  # quoted, with the same escapes as a JSON log line


def _json(value: object) -> str:
    # ensure_ascii=False keeps names readable; what json leaves raw but breaks lines is escaped.
    return json.dumps(value, ensure_ascii=False, default=str).translate(_JSON_ESCAPES)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The record's traceback: as the safe-log filter left it (scrubbed), else formatted."""
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return record.exc_text or ""


class TextFormatter(logging.Formatter):
    """`2025-01-31 12:00:00.123 INFO parley.turn: turn channel=api skill=returns ...`"""

    def __init__(self) -> None:
        super().__init__(datefmt="%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        stamp = f"{self.formatTime(record, self.datefmt)}.{int(record.msecs):03d}"
        line = f"{stamp} {record.levelname} {record.name}: {escape(record.getMessage())}"
        pairs = " ".join(f"{escape(str(k))}={_text_value(v)}" for k, v in _fields(record).items())
        if pairs:
            line += " " + pairs
        if exception := _exception(self, record):
            line += "\n" + exception
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created).astimezone().isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in _fields(record).items() if k not in entry)
        if exception := _exception(self, record):
            entry["exception"] = exception
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return _json(entry)


class AccessFields(logging.Filter):
    """Turn uvicorn's access record (`'%s - "%s %s HTTP/%s" %d'`) into `request` + fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args
            record.msg, record.args = "request", ()
            record.fields = {"client": client, "method": method, "path": path,
                             "http": version, "status": status}
        return True


def resolve_format(log_format: str) -> LogFormat:
    """'auto' is text on a terminal and JSON lines otherwise (a file, a pipe, journald)."""
    if log_format == "auto":
        return "text" if sys.stderr.isatty() else "json"
    if log_format not in ("text", "json"):
        raise ValueError(f"log format {log_format!r} is not one of auto, text, json")
    return log_format  # type: ignore[return-value]


def log_config(level: str = "info", log_format: str = "auto") -> dict[str, Any]:
    """A dictConfig for parley and uvicorn: every record to stderr, one line each.

    Args:
        level: the lowest level shown (debug, info, warning, error).
        log_format: 'text', 'json' or 'auto' (see `resolve_format`).
    """
    if level.lower() not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    name = level.upper()
    formatter = TextFormatter if resolve_format(log_format) == "text" else JsonFormatter
    quiet = {"level": "WARNING" if name != "DEBUG" else "NOTSET"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"parley": {"()": f"{__name__}.{formatter.__name__}"}},
        "filters": {"access": {"()": f"{__name__}.{AccessFields.__name__}"},
                    "safe": {"()": f"{SafeLogFilter.__module__}.{SafeLogFilter.__name__}"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "parley",
                                "stream": "ext://sys.stderr", "filters": ["safe"]}},
        "loggers": {
            # uvicorn's loggers hand their records to the root handler, in parley's format.
            "uvicorn": {"handlers": [], "propagate": True, "level": name},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": name},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": name,
                               "filters": ["access"]},
            **{logger: quiet for logger in NOISY},
        },
        "root": {"handlers": ["stderr"], "level": name},
    }


def configure_logging(level: str = "info", log_format: str = "auto") -> dict[str, Any]:
    """Install `log_config(level, log_format)` for this process and return it (for uvicorn)."""
    config = log_config(level, log_format)
    logging.config.dictConfig(config)
    return config
