"""Helpers several test modules share: spans of time, reading what the app sent to Slack,
reading a case back from the database, running the app's jobs, and running `python -m bot` as a
process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import BOT_TOKEN, DESK_YAML, REQUESTER, SIGNING_SECRET, SUPPORT_CHANNEL
from slack_driver import SlackDriver
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import migrate
from bot.db import Database, scratch_schema
from bot.runtime.assembly import build_casedesk
from bot.runtime.casedesk import Casedesk
from bot.runtime.scheduler import find_job
from bot.slack.blocks import SlackMessage
from bot.slack.outbox import enqueue
from models import Case

Json = dict[str, Any]

REPO = Path(__file__).resolve().parents[1]

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# What people see


def all_text(value: Any) -> str:
    """Every `text` string in a Slack payload (message, blocks, view), depth first."""
    if isinstance(value, dict):
        parts = [v if k == "text" and isinstance(v, str) else all_text(v) for k, v in value.items()]
    elif isinstance(value, list):
        parts = [all_text(item) for item in value]
    else:
        return ""
    return "\n".join(part for part in parts if part)


def button_elements(message: Json) -> list[Json]:
    """The buttons (and other elements) of a message's actions blocks, in order."""
    return [
        element
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def kpi_field(message: Json, name: str) -> str:
    """The value under a KPI's bold name in a message's or view's field sections."""
    for block in message.get("blocks") or []:
        for item in block.get("fields") or []:
            label, _, value = str(item["text"]).partition("\n")
            if label == f"*{name}*":
                return value
    raise AssertionError(f"no field {name!r} in {all_text(message)}")


# What Slack sends


def command_form(
    text: str,
    *,
    user: str = REQUESTER,
    response_url: str = "",
    trigger_id: str = "13345224609.738474920.raw",
    channel: str = SUPPORT_CHANNEL,
) -> str:
    """A `/case` slash command as Slack form-encodes it (sign it with SlackDriver.post or
    SignedRequests.post)."""
    return urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": "/case",
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def click_payload(user: str, trigger_id: str, **where: Any) -> Json:
    """A `block_actions` payload as Slack sends it for `user`'s click; `where` holds the rest:
    what was clicked in (channel, container, message or view), the response URL, the actions."""
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user, "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": trigger_id,
        **where,
    }


# The app behind Slack


def open_case(slack: SlackDriver, title: str = "Printer on fire") -> str:
    """The requester opens a case in the support channel; returns its card's ts."""
    result = slack.command(REQUESTER, f"open {title}")
    assert "Opened case" in result.reply_text, result.reply_text
    return str(slack.fake.messages(SUPPORT_CHANNEL)[-1]["ts"])


def case_row(casedesk: Casedesk, number: int = 1) -> Case:
    with casedesk.db.read_only() as session:
        case = session.get(Case, number)
    assert case is not None, f"case #{number} was not saved"
    return case


def queue_posts(casedesk: Casedesk, channel: str, count: int = 1) -> list[int]:
    """`count` plain posts to `channel` put on the outbox now ("message 1", ...): their rows."""
    with casedesk.db.unit_of_work() as session:
        rows = [
            enqueue(
                session,
                kind="test",
                channel_id=channel,
                content=SlackMessage(text=f"message {n}"),
                now=casedesk.clock.now(),
            )
            for n in range(1, count + 1)
        ]
        session.flush()
        return [row.id for row in rows]


def case_count(casedesk: Casedesk) -> int:
    with casedesk.db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


@contextmanager
def another_process(casedesk: Casedesk, client: WebClient | None = None) -> Iterator[Casedesk]:
    """A second Casedesk on the same database, as after a restart or on another replica
    (with `client`, its Slack client; else one built from the settings)."""
    database = Database(casedesk.db.url)
    other = build_casedesk(
        casedesk.settings, desk=casedesk.desk, db=database, clock=casedesk.clock, client=client
    )
    try:
        yield other
    finally:
        other.executor.shutdown(wait=True)
        database.dispose()


def run_job(casedesk: Casedesk, name: str) -> str:
    job = find_job(casedesk.jobs, name)
    assert job is not None, f"no job {name}"
    return job.run()


def run_sla_check(casedesk: Casedesk) -> str:
    """One pass of the sla-check job: decide, then deliver."""
    report = casedesk.sla_check.run()
    casedesk.outbox.deliver_due()
    return str(report)


# The command line


def run_cli(
    env: dict[str, str], cwd: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ...` as a process with exactly the environment `env`."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ...` as an operator would, with no Slack settings but those given."""
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "HOME": str(cwd), **env}
    return run_cli(environment, cwd, *args, timeout=60)


# Real processes of the bot


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    """The served bot answers `GET /readyz` with 200: it is up, on a migrated database."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until(check: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)


@contextmanager
def migrated_postgres(needed_for: str, *, prefix: str) -> Iterator[str]:
    """A migrated PostgreSQL schema of the test's own (skipped, saying what for, without
    TEST_DATABASE_URL); for tests whose processes share one database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(
            f"{needed_for} needs PostgreSQL: set TEST_DATABASE_URL "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    with scratch_schema(url, prefix=prefix) as schema_url:
        database = Database(schema_url)
        migrate.upgrade(database)
        database.dispose()
        yield schema_url


def serve_env(
    folder: Path,
    *,
    slack_api_url: str,
    database_url: str,
    desk: str = DESK_YAML,
    **more: str,
) -> dict[str, str]:
    """The environment of `python -m bot serve` in `folder` (its HOME), on a free port, with
    `desk` written to app.yaml there; with SLACK_APP_TOKEN in `more`, Socket Mode's: no signing
    secret, host or port."""
    (folder / "app.yaml").write_text(desk)
    http = {"SLACK_SIGNING_SECRET": SIGNING_SECRET, "HOST": "127.0.0.1", "PORT": str(free_port())}
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "HOME": str(folder),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack_api_url,
        "DATABASE_URL": database_url,
        "SUPPORT_CONFIG": str(folder / "app.yaml"),
        **(http if "SLACK_APP_TOKEN" not in more else {}),
        **more,
    }


def served_url(env: dict[str, str]) -> str:
    """Where the bot served with `env` (serve_env's) answers."""
    return f"http://{env['HOST']}:{env['PORT']}"


@contextmanager
def served_bot(
    env: dict[str, str],
    *args: str,
    log: Path | None = None,
    stop: signal.Signals = signal.SIGKILL,
    own_group: bool = False,
    ready: Callable[[], object] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m bot serve ARGS` with exactly `env`, in its HOME, once it answers /readyz (or,
    with no port, once `ready()`) (its stderr to `log`); at the end sent `stop` (to its process
    group with `own_group`), and SIGKILL if it has not stopped 30 s later."""
    is_ready: Callable[[], object]
    if ready is None:
        url = served_url(env)
        is_ready, what = partial(answers, url), f"{url} answering"
    else:
        is_ready, what = ready, "the bot ready"

    def send(signal_number: signal.Signals) -> None:
        if own_group:
            os.killpg(process.pid, signal_number)
        else:
            process.send_signal(signal_number)

    with open(log or os.devnull, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", *args],
            env=env,
            cwd=env["HOME"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=own_group,
        )
    try:
        wait_until(lambda: process.poll() is not None or is_ready(), what, 60)
        assert process.poll() is None, log.read_text() if log else "the bot did not start"
        yield process
    finally:
        try:
            if process.poll() is None:
                send(stop)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:  # it did not stop
                send(signal.SIGKILL)
                process.wait()
