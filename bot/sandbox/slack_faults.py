"""Slack having a bad day, on demand: failed calls (HTTP errors, ok=false, rate limits), calls
that take effect but whose answer is lost, and slow answers. The dispatch (slack_api.py) takes
the queued fault or delay for each request it answers."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from bot.sandbox.slack_http import Json
from bot.sandbox.slack_state import SlackState


@dataclass
class Fault:
    status: int | None
    error: str | None
    retry_after: int | None
    performed: bool = False  # the call takes effect, then its answer is lost
    hang: float = 0.0  # ...after being held back this long

    def answer(self) -> tuple[int, dict[str, str], Json]:
        """The failed answer: status, headers and body."""
        if self.status is None:
            return 200, {}, {"ok": False, "error": self.error}
        if self.status == 429:
            retry_after = 1 if self.retry_after is None else self.retry_after
            return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        return self.status, {}, {"ok": False, "error": self.error or "internal_error"}


class FaultInjection(SlackState):
    """``fail_next`` / ``lose_next_answer`` / ``delay_next``, per Web API method."""

    def _init_faults(self) -> None:
        # Slack's pace for posting: more than this many chat.postMessage calls a second in
        # one channel are answered 429 with Retry-After (None: no limit, the tests' default).
        self.posts_per_second_per_channel: float | None = None
        self._last_post: dict[str, float] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._delays: dict[str, list[float]] = {}
        self._release = threading.Event()  # set to answer every held-back request now

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (HTTP ``status`` or ok=false)."""
        if retry_after is not None and status is None:
            status = 429
        if status is None and error is None:
            raise ValueError("fail_next() needs status= and/or error=")
        with self._lock:
            queue = self._faults.setdefault(method, [])
            queue.extend(Fault(status, error, retry_after) for _ in range(times))

    def clear_faults(self) -> None:
        """Slack is healthy again: forget the failures not yet used."""
        with self._lock:
            self._faults.clear()

    def lose_next_answer(
        self, method: str, *, status: int = 500, hang: float = 0.0, times: int = 1
    ) -> None:
        """Let the next ``times`` calls to ``method`` take effect, then lose their answers:
        held back ``hang`` seconds (a client with a shorter timeout gives up), then answered
        with HTTP ``status``. What Slack does when it posts but the answer never arrives."""
        with self._lock:
            queue = self._faults.setdefault(method, [])
            queue.extend(Fault(status, None, None, performed=True, hang=hang) for _ in range(times))

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` answers to ``method`` (a Web API method, or
        ``RESPONSE_URL`` for posts to response URLs) back by ``seconds``."""
        with self._lock:
            self._delays.setdefault(method, []).extend([seconds] * times)

    def release_delays(self) -> None:
        """Answer every request held back now, and forget the delays not yet used."""
        with self._lock:
            self._delays.clear()
            released, self._release = self._release, threading.Event()
        released.set()

    def _pace_fault(self, method: str, params: Json, now: float) -> Fault | None:
        """A 429 for a post that comes too soon after the channel's last (lock held)."""
        rate = self.posts_per_second_per_channel
        if rate is None or method != "chat.postMessage":
            return None
        channel = str(params.get("channel", ""))
        last = self._last_post.get(channel)
        # Slack counts over a window, not to the millisecond: a post a little early passes.
        if last is not None and now - last < 0.9 / rate:
            return Fault(429, None, max(1, math.ceil(1 / rate - (now - last))))
        self._last_post[channel] = now
        return None

    @staticmethod
    def _pop(queues: dict[str, list[Any]], method: str) -> Any:
        queue = queues.get(method)
        return queue.pop(0) if queue else None
