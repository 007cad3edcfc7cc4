"""`python -m bot sandbox`: the real bot, wired to an embedded Slack stand-in, with a web page
where people use it as Slack users would.

Everything a person does on the page is delivered to the unchanged bot exactly as Slack would:
signed HTTP requests to `/slack/events` (slash commands, button clicks and people picked,
message shortcuts, modal submissions, Events API messages and reactions). The bot answers
through the stand-in's Web API at `SLACK_API_URL`. The bot's clock is a ManualClock the page
can move; moving it runs the scheduler's jobs, so SLA alerts and summaries appear as time
passes.

This module starts and stops it all; what people do lives in actions.py, the page's routes in
page.py, the stand-in in slack_api.py.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from bot import migrate
from bot.clock import ManualClock
from bot.db import Database, DatabaseUrlError, connect_database
from bot.desk import ConfigError, DeskConfig, load_desk_config
from bot.runtime.assembly import build_app, build_casedesk
from bot.runtime.casedesk import Casedesk
from bot.runtime.server import BackgroundServer, make_wsgi_app
from bot.runtime.settings import Settings
from bot.sandbox.actions import Sandbox
from bot.sandbox.page import SandboxPage
from bot.sandbox.signed import SignedRequests
from bot.sandbox.slack_api import SlackStandIn
from bot.slack.gateway import make_web_client

SANDBOX_TOKEN = "xoxb-sandbox"
SCRATCH_PREFIX = "casedesk-sandbox-"  # the folder of a run's own SQLite file, in the temp dir
STOP_POLL_SECONDS = 0.2  # how soon a Ctrl+C is heard while serving


class SandboxError(Exception):
    """The sandbox cannot start; the message says why and what to do."""


@dataclass
class RunningSandbox:
    """The stand-in serving the page, the bot behind it, and the run's scratch folder (None
    when the database was given)."""

    sandbox: Sandbox
    slack: SlackStandIn
    page: SandboxPage
    bot: BackgroundServer
    casedesk: Casedesk
    scratch: Path | None

    def stop(self) -> None:
        self.sandbox.close()
        self.bot.stop()
        self.slack.stop()
        self.casedesk.executor.shutdown(wait=True)
        self.casedesk.db.dispose()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def start_sandbox(
    *,
    config_path: str | Path,
    host: str,
    port: int,
    database_url: str | None,
    clock: ManualClock,
    ready: bool = True,
) -> RunningSandbox:
    """Start the stand-in (and page) and the bot, on `database_url` or else on a fresh SQLite
    file of a scratch folder that `stop()` removes. A page not `ready` says it is getting
    ready until `page.open()`."""
    desk = _desk(config_path)
    slack = SlackStandIn(host=host, port=port, time_source=lambda: clock.now().timestamp())
    try:
        slack.start()
    except OSError as error:
        raise SandboxError(
            f"cannot listen on {host}:{port} ({error.strerror}); is another sandbox running? "
            "Choose another port with --port"
        ) from None
    slack.workspace_url = slack.url  # permalinks open the message on the page
    scratch = None if database_url else Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    url = database_url or f"sqlite:///{scratch}/sandbox.db"
    try:
        database = _database(url)
    except BaseException:
        slack.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    secret = secrets.token_hex(16)
    settings = Settings(
        SLACK_BOT_TOKEN=SANDBOX_TOKEN,
        SLACK_SIGNING_SECRET=secret,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=url,
        SLACK_CHANNEL_INTERVAL=0,
    )
    client = make_web_client(SANDBOX_TOKEN, base_url=slack.base_url, timeout=5, max_retries=1)
    casedesk = build_casedesk(settings, desk=desk, db=database, clock=clock, client=client)
    bot = BackgroundServer(
        make_wsgi_app(build_app(casedesk), database, signing_secret=secret, clock=casedesk.clock)
    ).start()
    requests = SignedRequests(bot.url, secret, moment=lambda: clock.now().timestamp())
    sandbox = Sandbox(desk=desk, clock=clock, slack=slack, casedesk=casedesk, requests=requests)
    page = SandboxPage(sandbox, ready=ready)
    slack.routes = page
    return RunningSandbox(sandbox, slack, page, bot, casedesk, scratch)


def _desk(config_path: str | Path) -> DeskConfig:
    try:
        return load_desk_config(config_path)
    except ConfigError as error:
        problems = "\n  ".join(error.problems)
        raise SandboxError(
            f"{error.source} is not a usable desk configuration:\n  {problems}"
        ) from None


def _database(url: str) -> Database:
    try:
        database = connect_database(url)
    except DatabaseUrlError as error:
        raise SandboxError(f"--database: {error}") from None
    migrate.upgrade(database)
    return database


def run_sandbox(
    *, config_path: str | Path, host: str, port: int, database_url: str | None, seed: bool
) -> None:
    """Run until Ctrl+C (or SIGTERM, or the terminal closing). With `seed`, the page says it
    is getting ready while a week is lived through, and its address is printed once it
    shows that week."""
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = ManualClock(start - timedelta(days=7) if seed else start)
    stop = _stop_on_signals()
    running = start_sandbox(
        config_path=config_path,
        host=host,
        port=port,
        database_url=database_url,
        clock=clock,
        ready=not seed,
    )
    try:
        if seed:
            from bot.sandbox.seeding import seed_week

            print("Living through a week of cases first (under a minute)…", flush=True)
            seed_week(running.sandbox, until=start, stop=stop)
        if not stop.is_set():
            _serve(running, stop)
    finally:
        print("Stopping…", flush=True)
        running.stop()


def _serve(running: RunningSandbox, stop: threading.Event) -> None:
    scheduler = running.casedesk.scheduler()
    scheduler.start()
    running.page.open()
    print(
        f"Casedesk sandbox: open {running.slack.url} in your browser. Ctrl+C stops it.", flush=True
    )
    # Not `stop.wait()`: a signal that lands on another thread would not wake the main thread
    # out of it, so Ctrl+C would go unheard. Short sleeps let the handler run in time (and
    # outside the event's own lock, which the handler takes to set it).
    while not stop.is_set():
        time.sleep(STOP_POLL_SECONDS)
    scheduler.shutdown()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    return stop
