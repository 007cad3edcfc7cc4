"""Logging: one line per event, as text for people or as one JSON object per line for machines
(`LOG_FORMAT=json`).

What is quiet on purpose: APScheduler's lines for every job run (the scheduler's own lines say
what matters), and the libraries that would log what Slack sent or what the bot sends at DEBUG
(request bodies, command text, message text, headers): `slack_bolt` and `slack_sdk` never log
below INFO, whatever LOG_LEVEL says (SQLAlchemy keeps its own WARNING: no SQL parameters). A
JSON line carries an exception's type and frames, never its message, which may quote a request.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that say nothing an operator needs below WARNING.
QUIET = ("apscheduler",)
# Loggers whose DEBUG lines carry request bodies, message text or SQL parameters.
NEVER_DEBUG = ("slack_bolt", "slack_sdk")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and for an
    exception its type and frames."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            kind, _error, frames = record.exc_info
            line["exc_type"] = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
            line["traceback"] = "".join(traceback.format_tb(frames)).rstrip()
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is written (as logging's last resort does),
    so a replaced stderr never receives lines through a closed stream."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def formatter(fmt: LogFormat) -> logging.Formatter:
    """The formatter for `fmt`, for any handler that should write Casedesk's lines (a server's
    own loggers, say)."""
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str, fmt: LogFormat) -> None:
    """Send every log line at `level` and above to stderr, formatted as `fmt`.

    Calling it again replaces its own handler. Like `logging.basicConfig`, it leaves the root
    logger alone when something else already configured it (a test runner, an embedding host).
    """
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if isinstance(handler, _Stderr)]:
        root.removeHandler(handler)
    if not root.handlers:
        handler = _Stderr()
        handler.setFormatter(formatter(fmt))
        root.addHandler(handler)
        root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    least = max(logging.INFO, logging.getLevelName(level))
    for name in NEVER_DEBUG:
        logging.getLogger(name).setLevel(least)


def configure_from_settings(*, long_running: bool) -> None:
    """LOG_LEVEL and LOG_FORMAT from the settings for a server; a one-shot command prints its
    result and only warns. Settings that do not load leave the defaults: the command then says
    itself what is wrong."""
    from bot.runtime.settings import SettingsError, load_settings

    level: str = "INFO"
    fmt: LogFormat = "text"
    try:
        settings = load_settings()
    except SettingsError:
        pass
    else:
        level, fmt = settings.LOG_LEVEL, settings.LOG_FORMAT
    configure_logging(level if long_running else "WARNING", fmt)
