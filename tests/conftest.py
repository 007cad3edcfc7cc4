"""Shared fixtures.

Every test that touches the database runs on SQLite, and also on PostgreSQL when
TEST_DATABASE_URL is set (otherwise those variants skip, saying why). Each test gets an empty,
fully migrated database: SQLite copies a migrated template file; PostgreSQL migrates a schema of
its own once per run and truncates it between tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from slack_driver import SlackDriver
from sqlalchemy import text

from bot import migrate
from bot.cases.changes import Actor
from bot.cases.rules import CaseService
from bot.clock import ManualClock
from bot.db import Database, scratch_schema
from bot.desk import DeskConfig, parse_desk_config
from bot.roster import Roster, UsergroupLookupError
from bot.runtime.assembly import build_app, build_casedesk
from bot.runtime.casedesk import Casedesk
from bot.runtime.server import BackgroundServer, make_wsgi_app
from bot.runtime.settings import Settings
from bot.sla.policies import SlaPolicies
from bot.sla.timers import SlaTracker
from bot.slack.gateway import make_web_client
from models import Base, EventSource

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
# A Monday morning, 09:00 UTC.
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

REQUESTER = "U0REQUESTER"
AGENT = "U0AGENT1"
AGENT_2 = "U0AGENT2"  # an agent through the S0SUPPORT usergroup only
MANAGER = "U0MANAGER"
BILLING_AGENT = "U0BILLING1"
OUTSIDER = "U0OUTSIDER"
SUPPORT_CHANNEL = "C0SUPPORT"
BILLING_CHANNEL = "C0BILLING"
HELP_CHANNEL = "C0HELP"

DESK_YAML = f"""
default_team: support
priorities: {{p1: Urgent, p2: High, p3: Normal, p4: Low}}
teams:
  support:
    name: Customer Support
    channel: {SUPPORT_CHANNEL}
    alert_channel: C0ALERTS
    agents: [{AGENT}, S0SUPPORT]
    managers: [{MANAGER}]
    routes_from: [{HELP_CHANNEL}]
    default_priority: p3
  billing:
    name: Billing
    channel: {BILLING_CHANNEL}
    agents: [{BILLING_AGENT}]
    managers: [U0BILLMGR]
    routes_from: [C0INVOICES]
    default_priority: p2
"""

# Office hours in Berlin: the `office` calendar the SLA, metrics and summary tests count in.
OFFICE_CALENDAR_YAML = """
calendars:
  office:
    timezone: Europe/Berlin
    hours: {weekdays: ["09:00-17:00"]}
"""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """Let fixtures know in their teardown that the test failed (for screenshots)."""
    if call.when == "call" and call.excinfo is not None:
        item.failed_call = True  # type: ignore[attr-defined]


# Databases


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "casedesk.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    url = _postgres_url()
    if url is None:
        pytest.skip(
            "PostgreSQL tests need TEST_DATABASE_URL "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    with scratch_schema(url, prefix="casedesk_test") as schema_url:
        database = Database(schema_url)
        migrate.upgrade(database)
        database.dispose()
        yield schema_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "casedesk.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("postgres_schema_url"), pool_size=20)
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    db.dispose()


# The desk, the clock and the roster


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def desk_config() -> DeskConfig:
    return parse_desk_config(DESK_YAML, source="test desk")


def sla_desk_yaml(sla_yaml: str) -> str:
    """The test desk with the `office` calendar and then `sla_yaml` (its SLA section, and
    whatever else a module's tests need) after its teams."""
    return DESK_YAML + OFFICE_CALENDAR_YAML + sla_yaml


def sla_desk(sla_yaml: str, source: str) -> DeskConfig:
    """`sla_desk_yaml` read as app.yaml; modules about SLAs override `desk_config` with it."""
    return parse_desk_config(sla_desk_yaml(sla_yaml), source=source)


class StaticDirectory:
    """Usergroup membership without Slack, for service-level tests."""

    def __init__(self, groups: dict[str, list[str]], refused: set[str] | None = None) -> None:
        self.groups = groups
        self.refused = refused or set()

    def usergroup_members(self, group_id: str) -> list[str]:
        if group_id in self.refused:
            raise UsergroupLookupError("missing_scope")
        return self.groups.get(group_id, [])


@pytest.fixture
def roster(desk_config: DeskConfig, clock: ManualClock) -> Roster:
    return Roster(desk_config, StaticDirectory({"S0SUPPORT": [AGENT_2]}), clock)


@pytest.fixture
def sla_tracker(desk_config: DeskConfig) -> SlaTracker:
    return SlaTracker(SlaPolicies(desk_config.sla, desk_config.calendars))


@pytest.fixture
def cases(
    desk_config: DeskConfig, roster: Roster, clock: ManualClock, sla_tracker: SlaTracker
) -> CaseService:
    """The case rules as the app builds them: every change replays the case's SLA clocks."""
    return CaseService(desk_config, roster, clock, sla_tracker)


def actor(user_id: str, source: EventSource = EventSource.COMMAND) -> Actor:
    return Actor(user_id, source)


# Slack: the fake Web API, the real app over HTTP, and a driver that acts as Slack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.usergroups["S0SUPPORT"] = [AGENT_2]
        yield fake


@pytest.fixture
def casedesk(
    database: Database, desk_config: DeskConfig, clock: ManualClock, fake_slack: FakeSlack
) -> Iterator[Casedesk]:
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.base_url,
        DATABASE_URL=database.url,
        SLACK_CHANNEL_INTERVAL=0,  # pacing has its own test; here it would only slow things
    )
    # Short timeouts and one retry keep failure tests fast; production uses the defaults.
    client = make_web_client(BOT_TOKEN, base_url=fake_slack.base_url, timeout=3, max_retries=2)
    built = build_casedesk(settings, desk=desk_config, db=database, clock=clock, client=client)
    yield built
    built.executor.shutdown(wait=True)


@pytest.fixture
def slack(casedesk: Casedesk, fake_slack: FakeSlack) -> Iterator[SlackDriver]:
    """The real Bolt app served over HTTP, and a driver that talks to it as Slack does."""
    app = build_app(casedesk)
    server = BackgroundServer(
        make_wsgi_app(app, casedesk.db, signing_secret=SIGNING_SECRET, clock=casedesk.clock)
    ).start()

    def moment() -> float:  # Slack's timestamps follow the test's clock
        return casedesk.clock.now().timestamp()

    yield SlackDriver(server.url, SIGNING_SECRET, fake_slack, casedesk.executor, moment)
    server.stop()
