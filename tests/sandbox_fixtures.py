"""A running sandbox for tests: the stand-in with its page, and the real bot behind it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conftest import DESK_YAML

from bot.clock import ManualClock
from bot.sandbox.actions import Sandbox
from bot.sandbox.runner import start_sandbox

# Monday 08:00 UTC (09:00 in Berlin); short 24x7 targets so a few clicks of the clock breach.
# As in the repo's app.yaml, every new message in #support-requests (C0HELP) opens a case.
SANDBOX_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
_SUPPORT_DEFAULT = "    default_priority: p3\n"
assert DESK_YAML.count(_SUPPORT_DEFAULT) == 1
SANDBOX_YAML = (
    DESK_YAML.replace(_SUPPORT_DEFAULT, _SUPPORT_DEFAULT + "    intake: {auto: true}\n")
    + """
sla:
  teams:
    support:
      default: {first_response: 30m, resolution: 2h, calendar: 24x7}
"""
)


@contextmanager
def running_sandbox(tmp_path: Path, *, port: int = 0) -> Iterator[Sandbox]:
    config = tmp_path / "app.yaml"
    config.write_text(SANDBOX_YAML, encoding="utf-8")
    running = start_sandbox(
        config_path=config,
        host="127.0.0.1",
        port=port,
        database_url=f"sqlite:///{tmp_path}/sandbox.db",
        clock=ManualClock(SANDBOX_START),
    )
    try:
        yield running.sandbox
    finally:
        running.stop()


def page_call(sandbox: Sandbox, action: str, **body: Any) -> Any:
    """What the page's script does: POST /ui/<action> with JSON."""
    request = urllib.request.Request(
        f"{sandbox.slack.url}ui/{action}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    sandbox.casedesk.executor.wait_idle(timeout=30)
    return answer


def page_state(sandbox: Sandbox, user: str) -> Any:
    with urllib.request.urlopen(f"{sandbox.slack.url}ui/state?user={user}", timeout=30) as response:
        return json.loads(response.read())
