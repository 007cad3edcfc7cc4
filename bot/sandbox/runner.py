"""`python -m bot sandbox`: the real bot, wired to an embedded Slack stand-in, with a web page
where people use it as Slack users would.

Everything a person does on the page is delivered to the unchanged bot exactly as Slack would:
signed HTTP requests to `/slack/events` (slash commands, button clicks, modal submissions,
Events API messages). The bot answers through the stand-in's Web API at `SLACK_API_URL`. The
bot's clock is a ManualClock the page can move; moving it runs the scheduler's jobs, so SLA
alerts and summaries appear as time passes.

This module starts and stops it all; what people do lives in actions.py, the page's routes in
page.py, the stand-in in slack_api.py.
"""

from __future__ import annotations

import secrets
import signal
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from bot import migrate
from bot.clock import ManualClock
from bot.db import DatabaseUrlError, connect_database
from bot.desk import ConfigError, load_desk_config
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


class SandboxError(Exception):
    """The sandbox cannot start; the message says why and what to do."""


def start_sandbox(
    *, config_path: str | Path, host: str, port: int, database_url: str | None, clock: ManualClock
) -> tuple[Sandbox, SlackStandIn, BackgroundServer, Casedesk]:
    """Start the stand-in (and page) and the bot; returns them running."""
    try:
        desk = load_desk_config(config_path)
    except ConfigError as error:
        problems = "\n  ".join(error.problems)
        raise SandboxError(
            f"{error.source} is not a usable desk configuration:\n  {problems}"
        ) from None
    slack = SlackStandIn(host=host, port=port, time_source=lambda: clock.now().timestamp())
    try:
        slack.start()
    except OSError as error:
        raise SandboxError(
            f"cannot listen on {host}:{port} ({error.strerror}); is another sandbox running? "
            "Choose another port with --port"
        ) from None
    url = database_url or f"sqlite:///{tempfile.mkdtemp(prefix='casedesk-sandbox-')}/sandbox.db"
    try:
        database = connect_database(url)
    except DatabaseUrlError as error:
        slack.stop()
        raise SandboxError(f"--database: {error}") from None
    migrate.upgrade(database)
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
        make_wsgi_app(build_app(casedesk), database, signing_secret=secret)
    ).start()
    requests = SignedRequests(bot.url, secret)
    sandbox = Sandbox(desk=desk, clock=clock, slack=slack, casedesk=casedesk, requests=requests)
    slack.routes = SandboxPage(sandbox)
    return sandbox, slack, bot, casedesk


def run_sandbox(
    *, config_path: str | Path, host: str, port: int, database_url: str | None, seed: bool
) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = ManualClock(start - timedelta(days=7) if seed else start)
    sandbox, slack, bot, casedesk = start_sandbox(
        config_path=config_path, host=host, port=port, database_url=database_url, clock=clock
    )
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if seed:
            from bot.sandbox.seeding import seed_week

            print("Seeding a week of cases…", flush=True)
            seed_week(sandbox, until=start)
        print(f"Casedesk sandbox: open {slack.url} in your browser. Ctrl+C stops it.", flush=True)
        scheduler = casedesk.scheduler()
        scheduler.start()
        stop.wait()
        scheduler.shutdown()
    finally:
        print("Stopping…", flush=True)
        bot.stop()
        slack.stop()
        casedesk.executor.shutdown(wait=True)
        casedesk.db.dispose()
