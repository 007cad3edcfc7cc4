"""The core of the Slack stand-in that every surface shares: the bot's identity, Slack's error
answers, the channels and their messages, which channels the bot is in, timestamps and ids, the
lock, and the change counter pages wait on.

Each surface (chat, views, directory, files, ...) is a mixin on ``SlackState`` that keeps its
own state, made by its ``_init_*`` method; ``SlackStandIn`` (slack_api.py) puts them together.
Method handlers run with ``_lock`` held.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import ThreadingHTTPServer
from typing import Any

from bot.sandbox.slack_http import Json

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
RESPONSE_URL = "response_url"  # delay_next() key for posts to response URLs

MethodHandler = Callable[[Json], Json]
MethodTable = dict[str, MethodHandler]


class SlackError(Exception):
    """Raised inside a method handler; answered as ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.body: Json = {"ok": False, "error": error, **extra}


@dataclass
class ApiCall:
    """One recorded Web API call. ``failed`` marks injected failures (state untouched)."""

    method: str
    params: Json
    at: float
    token: str | None = None
    failed: bool = False
    error: str | None = None  # Slack error code when the answer was not ok


class SlackState:
    """Channels, messages and the machinery shared by the stand-in's surfaces."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_source: Callable[[], float] | None = None,
    ) -> None:
        self.host, self.port = host, port
        # Message timestamps follow this clock (seconds since the epoch) when given, so the
        # sandbox's messages carry the bot's time; else they count up from a fixed start.
        self.time_source = time_source
        self._last_micros = 0  # the last timestamp handed out from a clock, in microseconds
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self.version = 0  # bumped on every change, for pages that wait for news
        # Where the workspace lives: auth.test's url and the base of permalinks. The sandbox
        # points it at its page, so links to messages open them there.
        self.workspace_url = "https://test.slack.com/"
        self.warnings: list[str] = []
        self.unknown_channels: set[str] = set()
        # Channels the bot is not a member of (it is in every other one): reading or writing
        # there answers not_in_channel. People can still write and react there.
        self.outside_channels: set[str] = set()
        self._channels: dict[str, list[Json]] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._init_surfaces()

    def _init_surfaces(self) -> None:
        """The state of each surface (chat, views, ...), set up by the stand-in itself."""

    # ---- where it is served

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started")
        return f"http://{self.host}:{self._server.server_address[1]}/"

    @property
    def base_url(self) -> str:
        return f"{self.url}api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}response/{key}"

    # ---- news of changes

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the workspace changed after version `seen` (or timeout)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.version != seen or self._stopping.is_set(), timeout=timeout
            )
            return self.version

    def announce_change(self) -> None:
        """Something the pages show changed outside the Web API (the sandbox's clock)."""
        self._bump()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _bump(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    # ---- channels and messages (deep copies)

    def messages(self, channel: str) -> list[Json]:
        """The channel's own messages (thread replies sent to the channel too), oldest first."""
        with self._lock:
            msgs = self._channels.get(channel, [])
            return [copy.deepcopy(m) for m in msgs if _in_channel_view(m)]

    def thread(self, channel: str, thread_ts: str) -> list[Json]:
        with self._lock:
            msgs = self._channels.get(channel, [])
            replies = [m for m in msgs if m["thread_ts"] == thread_ts and m["ts"] != thread_ts]
            return copy.deepcopy(replies)

    def message(self, channel: str, ts: str) -> Json | None:
        """One message, in the channel or in a thread; None if there is none (or it was
        deleted)."""
        with self._lock:
            found = self._find(channel, ts)
            return copy.deepcopy(found) if found is not None else None

    def channel_ids(self) -> list[str]:
        with self._lock:
            return list(self._channels)

    # ---- helpers for method handlers

    def _next_ts(self, at: float | None = None) -> str:
        """A new message timestamp: at `at` (seconds since the epoch) when given, else by
        `time_source`, else counting up from a fixed start."""
        if at is None and self.time_source is not None:
            at = self.time_source()
        if at is None:
            micros = next(self._ts_counter) * 100
            return f"{1_700_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"
        # Strictly increasing, as Slack's are within a channel.
        self._last_micros = max(round(at * 1_000_000), self._last_micros + 1)
        return f"{self._last_micros // 1_000_000}.{self._last_micros % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):07d}"

    def _channel(self, params: Json, key: str = "channel") -> str:
        channel = params.get(key)
        if not channel or channel in self.unknown_channels:
            raise SlackError("channel_not_found")
        return str(channel)

    def _member_channel(self, params: Json, key: str = "channel") -> str:
        """A channel the bot must be in for the method (reading it, posting, reacting)."""
        channel = self._channel(params, key)
        if channel in self.outside_channels:
            raise SlackError("not_in_channel")
        return channel

    @staticmethod
    def _require(params: Json, *keys: str) -> None:
        missing = [k for k in keys if not params.get(k)]
        if missing:
            messages = [f"[ERROR] missing required field: {k}" for k in missing]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})

    def _find(self, channel: str, ts: Any) -> Json | None:
        return next((m for m in self._channels.get(channel, []) if m["ts"] == ts), None)

    def _add_message(
        self, channel: str, params: Json, *, at: float | None = None, **extra: Any
    ) -> Json:
        thread_ts = params.get("thread_ts") or None
        if thread_ts and truthy(params.get("reply_broadcast")):
            extra.setdefault("subtype", "thread_broadcast")
        message: Json = {
            "type": "message",
            "ts": self._next_ts(at),
            "channel": channel,
            "text": params.get("text", ""),
            "blocks": params.get("blocks"),
            "attachments": params.get("attachments"),
            "thread_ts": thread_ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "metadata": params.get("metadata"),
            **extra,
        }
        parent = self._find(channel, thread_ts) if thread_ts else None
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        self._channels.setdefault(channel, []).append(message)
        return message

    def _remove_message(self, channel: str, ts: Any) -> Json:
        """Delete a message as Slack does: gone from the channel, its thread one reply
        shorter. A thread's parent goes alone; its replies stay, unreachable by it."""
        message = self._find(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        self._channels[channel].remove(message)
        thread_ts = message["thread_ts"]
        parent = self._find(channel, thread_ts) if thread_ts not in (None, message["ts"]) else None
        if parent is not None and parent.get("reply_count"):
            parent["reply_count"] -= 1
            if not parent["reply_count"]:
                del parent["reply_count"]
                parent["thread_ts"] = None
        return message


def ts_value(ts: Any, error: str = "invalid_ts") -> Decimal:
    """A Slack timestamp as an exact number, for comparing and ordering."""
    try:
        value = Decimal(str(ts))
    except InvalidOperation:
        raise SlackError(error) from None
    if not value.is_finite():
        raise SlackError(error)
    return value


def truthy(value: Any) -> bool:
    """A boolean argument as Slack reads it: true, 1 ("1", "true") or false."""
    return value is True or str(value).lower() in ("1", "true")


def _in_channel_view(message: Json) -> bool:
    thread_ts = message["thread_ts"]
    return thread_ts in (None, message["ts"]) or message.get("subtype") == "thread_broadcast"
