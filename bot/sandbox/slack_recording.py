"""What the tests assert on: every Web API call received, every body posted to a response URL,
and waiting until the bot has done something."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any, Self

from bot.sandbox.slack_http import Json
from bot.sandbox.slack_state import ApiCall, SlackState


class Recording(SlackState):
    """``calls``, ``responses`` and the helpers to look them up or wait for them."""

    def _init_recording(self) -> None:
        self.calls: list[ApiCall] = []
        self.responses: list[Json] = []  # bodies POSTed to response URLs, plus "_key"

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def last(self, method: str) -> ApiCall:
        calls = self.calls_to(method)
        if not calls:
            raise AssertionError(f"no {method} call recorded; {self.describe()}")
        return calls[-1]

    def responses_for(self, key: str) -> list[Json]:
        with self._lock:
            return [copy.deepcopy(r) for r in self.responses if r["_key"] == key]

    def clear(self) -> None:
        """Forget recorded calls, responses and warnings (workspace state is kept)."""
        with self._lock:
            self.calls.clear()
            self.responses.clear()
            self.warnings.clear()

    def describe(self) -> str:
        with self._lock:
            calls = [
                f"{c.method}{' (failed)' if c.failed else ''} {c.params!r:.200}" for c in self.calls
            ]
            responses = [f"{r!r:.200}" for r in self.responses]
        seen = sorted({c.method for c in self.calls})
        lines = [f"methods seen: {seen}", *calls, f"{len(responses)} response(s)", *responses]
        return "\n  ".join(lines)

    def wait_for(self, predicate: Callable[[Self], Any], timeout: float = 5.0) -> Any:
        """Poll until ``predicate(self)`` is truthy and return its value.

        AssertionError/LookupError raised by the predicate count as "not yet", so
        ``fake.wait_for(lambda f: f.last("chat.postMessage"))`` works.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = predicate(self)
            except (AssertionError, LookupError):
                result = None
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s; {self.describe()}")
            time.sleep(0.01)
