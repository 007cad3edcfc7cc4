"""What the modules about the team summaries share: their desk (with the chart only where a test
asks for it), a day of support, running the summary job and reading the posts. Support works
office hours in Berlin, so its summaries follow Berlin's days and 09:00; billing has no calendar
and follows UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import AGENT, AGENT_2, REQUESTER, START, SUPPORT_CHANNEL, StaticDirectory, sla_desk
from fake_slack import FakeSlack
from helpers import MINUTE, Json, kpi_field, run_job
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.db import Database
from bot.desk import DeskConfig
from bot.ids import ActionId
from bot.metrics.summaries import SummaryService
from bot.roster import Roster
from bot.runtime.casedesk import Casedesk
from bot.sla.policies import SlaPolicies

# START is Monday 23 Nov 2026 09:00 UTC, 10:00 in Berlin (UTC+1 in November).
TUESDAY_0901_UTC = datetime(2026, 11, 24, 9, 1, tzinfo=UTC)
MONDAY_LABEL = "Mon 23 Nov 2026"

SLA_YAML = """
sla:
  teams:
    support:
      default: {first_response: 1h, resolution: 8h, calendar: office}
summary:
  daily_at: "09:00"
  weekly_on: mon
"""
WITH_CHART = "with the chart"


@pytest.fixture(name="desk_config")
def desk_config_fixture(request: pytest.FixtureRequest) -> DeskConfig:
    """Drawing the chart takes a while, so only the tests about it have one
    (`@with_chart`); the chart changes nothing else in the post."""
    chart = getattr(request, "param", None) == WITH_CHART
    return sla_desk(SLA_YAML + f"  chart: {str(chart).lower()}\n", source="summary test desk")


# Helpers: running the jobs, and reading the posts


def summaries(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> list[Json]:
    """The summary posts in a channel (its top-level messages other than case cards)."""
    return [m for m in fake.messages(channel) if " summary for " in m["text"]]


def only_summary(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> Json:
    posted = summaries(fake, channel)
    assert len(posted) == 1, [m["text"] for m in posted]
    return posted[0]


def summary_service(db: Database, desk: DeskConfig, clock: ManualClock) -> SummaryService:
    """The summaries of `desk` (their periods, zones and figures) without a running desk: its
    roster asks no Slack for usergroups."""
    return SummaryService(
        db=db,
        desk=desk,
        roster=Roster(desk, StaticDirectory({}), clock),
        policies=SlaPolicies(desk.sla, desk.calendars),
        clock=clock,
    )


def kpis_as_shown(message: Json, expected: dict[str, str]) -> dict[str, str]:
    """The KPI fields `expected` names, as the message shows them: `== expected` checks all."""
    return {name: kpi_field(message, name) for name in expected}


def title(message: Json) -> str:
    first = message["blocks"][0]
    assert first["type"] == "header"
    return str(first["text"]["text"])


def section_texts(message: Json) -> list[str]:
    return [
        str(block["text"]["text"])
        for block in message["blocks"]
        if block["type"] == "section" and "text" in block
    ]


def card_ts(fake: FakeSlack, number: int) -> str:
    return next(
        str(m["ts"])
        for m in fake.messages(SUPPORT_CHANNEL)
        if str(m["text"]).startswith(f"Case #{number} (")
    )


def a_day_of_support(slack: SlackDriver, fake: FakeSlack, clock: ManualClock) -> None:
    """Monday from 10:00 in Berlin: three cases; #1 answered after 10 min and closed after an
    hour by its first assignee; #2 answered after 30 min, escalated, closed after two hours;
    #3 left open. The requester rates #1 a 4."""
    a_day_of_support_from(slack, fake, clock, first=1)


def a_day_of_support_from(
    slack: SlackDriver, fake: FakeSlack, clock: ManualClock, *, first: int
) -> None:
    """`a_day_of_support`, its cases numbered from `first`."""
    one, two = first, first + 1
    clock.set(START)
    for name in ("Printer on fire", "VPN down", "Cannot log in"):
        slack.command(REQUESTER, f"open {name}")
    slack.command(AGENT, f"claim {one}")
    slack.command(AGENT_2, f"claim {two}")
    clock.advance(10 * MINUTE)
    slack.thread_reply(AGENT, SUPPORT_CHANNEL, card_ts(fake, one), "On it")
    clock.advance(20 * MINUTE)
    slack.thread_reply(AGENT_2, SUPPORT_CHANNEL, card_ts(fake, two), "Looking")
    clock.advance(30 * MINUTE)
    slack.command(AGENT, f"close {one} Replaced the toner")
    clock.advance(30 * MINUTE)
    slack.command(AGENT_2, f"escalate {two} Needs the network team")
    clock.advance(30 * MINUTE)
    slack.command(AGENT_2, f"close {two} Router restarted")
    clock.advance(10 * MINUTE)
    slack.click(REQUESTER, ActionId.CSAT_RATE, f"{one}:4", channel=REQUESTER)


def mondays_summary(
    fake: FakeSlack, casedesk: Casedesk, clock: ManualClock, channel: str = SUPPORT_CHANNEL
) -> Json:
    """Run the daily-summary job on Tuesday at 10:01 in Berlin; the one summary it posted in
    `channel`, Monday's."""
    clock.set(TUESDAY_0901_UTC)
    run_job(casedesk, "daily-summary")
    return only_summary(fake, channel)


@pytest.fixture(name="monday")
def monday_fixture(slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock) -> SlackDriver:
    a_day_of_support(slack, fake_slack, clock)
    return slack
