"""A team's own time zone (`teams.<key>.timezone`): its summary comes at `daily_at` there and
covers its local day, `/case stats` and App Home's "today" follow its days, and without one a
team follows its SLA calendar's zone, else UTC. A zone that does not exist is a config error
in one line. Support here is a 24x7 team in Madrid (UTC+1 in November, UTC+2 in summer);
billing has neither a time zone nor a calendar, so its days are UTC's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from conftest import (
    AGENT,
    BILLING_CHANNEL,
    MANAGER,
    REQUESTER,
    sla_desk_yaml,
)
from fake_slack import FakeSlack
from helpers import MINUTE, kpi_field, run_job
from slack_driver import SlackDriver
from summaries_helpers import summaries, summary_service, title

from bot.__main__ import main
from bot.clock import ManualClock
from bot.db import Database
from bot.desk import DeskConfig, parse_desk_config
from bot.runtime.casedesk import Casedesk

SLA_YAML = """
sla:
  teams:
    support:
      default: {first_response: 1h, resolution: 8h, calendar: 24x7}
summary: {daily_at: "09:00", chart: false}
"""


def desk_yaml(**zones: str) -> str:
    """The test desk (support on 24x7 targets, billing without SLA, the Berlin `office`
    calendar), with the given teams in the given time zones."""
    data = yaml.safe_load(sla_desk_yaml(SLA_YAML))
    for team, zone in zones.items():
        data["teams"][team]["timezone"] = zone
    return yaml.safe_dump(data, sort_keys=False)


@pytest.fixture(name="desk_config")
def desk_config_fixture() -> DeskConfig:
    return parse_desk_config(desk_yaml(support="Europe/Madrid"), source="time zone test desk")


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def titles(fake: FakeSlack, channel: str = "C0SUPPORT") -> list[str]:
    return [title(message) for message in summaries(fake, channel)]


# Which zone


@pytest.mark.parametrize(
    ("zones", "calendar", "expected"),
    [
        (
            {"support": "Europe/Madrid", "billing": "Asia/Tokyo"},
            "office",
            ["Europe/Madrid", "Asia/Tokyo"],
        ),
        ({}, "office", ["Europe/Berlin", "UTC"]),  # support's calendar is Berlin's office
        ({}, "24x7", ["UTC", "UTC"]),  # a calendar open round the clock has no zone
    ],
)
def test_a_team_follows_its_own_time_zone_else_its_sla_calendars_else_utc(
    database: Database,
    clock: ManualClock,
    zones: dict[str, str],
    calendar: str,
    expected: list[str],
) -> None:
    desk = parse_desk_config(desk_yaml(**zones).replace("calendar: 24x7", f"calendar: {calendar}"))
    service = summary_service(database, desk, clock)

    assert [str(service.zone(team)) for team in desk.teams.values()] == expected


def test_check_config_names_a_time_zone_that_does_not_exist_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(desk_yaml(support="Europe/Madird"), encoding="utf-8")

    code = main(["check-config", str(path)])

    captured = capsys.readouterr()
    assert (code, captured.out) == (1, "")
    assert captured.err.splitlines() == [
        f"casedesk: {path}: teams.support.timezone: 'Europe/Madird' is not a time zone "
        "(use an IANA name like Europe/Madrid)"
    ]


# Summaries


def test_a_24x7_team_in_madrid_gets_the_summary_of_madrids_day_at_nine_there(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(utc(11, 22, 23, 30))  # Monday 00:30 in Madrid, still Sunday in UTC
    slack.command(REQUESTER, "open Printer on fire")
    clock.set(utc(11, 23, 10, 0))  # Monday 11:00 in Madrid
    slack.command(REQUESTER, "open VPN down")
    clock.set(utc(11, 24, 7, 59))  # Tuesday 08:59 in Madrid
    run_job(casedesk, "daily-summary")
    sunday = titles(fake_slack)

    clock.set(utc(11, 24, 8, 0))  # 09:00 in Madrid, 08:00 in UTC
    run_job(casedesk, "daily-summary")

    assert sunday == ["Customer Support: daily summary for Sun 22 Nov 2026"]
    monday = summaries(fake_slack)[-1]
    assert title(monday) == "Customer Support: daily summary for Mon 23 Nov 2026"
    assert kpi_field(monday, "New") == "2 ▲2 · 7-day avg 0.0"  # UTC's Monday had only one
    assert titles(fake_slack, BILLING_CHANNEL) == ["Billing: daily summary for Sun 22 Nov 2026"]


# /case stats and App Home


def either_side_of_midnight_in_madrid(
    slack: SlackDriver, clock: ManualClock, *, sunday_minute: int
) -> None:
    """A case opened on Sunday at 23:`sunday_minute` in Madrid and one on Monday at 00:15,
    both on Sunday in UTC; then half an hour passes."""
    clock.set(utc(11, 22, 22, sunday_minute))
    slack.command(REQUESTER, "open Sunday night")
    clock.set(utc(11, 22, 23, 15))
    slack.command(REQUESTER, "open Monday just after midnight")
    clock.advance(30 * MINUTE)


def test_stats_today_and_yesterday_follow_the_teams_days(
    slack: SlackDriver, clock: ManualClock
) -> None:
    either_side_of_midnight_in_madrid(slack, clock, sunday_minute=50)

    [today] = slack.command(AGENT, "stats today").responses
    [yesterday] = slack.command(AGENT, "stats yesterday").responses

    assert kpi_field(today, "New") == "1 ▲1"  # in UTC, both are today's (Sunday's)
    assert today["text"].startswith("Customer Support: today so far: 1 new")
    assert yesterday["text"].startswith("Customer Support: yesterday (Sun 22 Nov 2026): 1 new")


def test_stats_for_the_last_7_days_are_seven_local_days_across_a_change_of_summer_time(
    slack: SlackDriver, clock: ManualClock
) -> None:
    """Summer time ends on 25 October. From Monday 26 October at 10:00 in Madrid, the last 7
    days began on Monday 19 October at 10:00 in Madrid: 08:00 in UTC, 7 days and an hour ago."""
    clock.set(utc(10, 19, 8, 30))  # 10:30 in Madrid
    slack.command(REQUESTER, "open A week ago")
    clock.set(utc(10, 26, 9, 0))  # 10:00 in Madrid

    [week] = slack.command(AGENT, "stats 7d").responses

    assert kpi_field(week, "New") == "1 ▲1"


def test_app_home_shows_a_manager_the_teams_today_in_its_time_zone(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    either_side_of_midnight_in_madrid(slack, clock, sunday_minute=30)

    slack.event({"type": "app_home_opened", "user": MANAGER, "channel": "D0HOME", "tab": "home"})
    home = fake_slack.home_views[MANAGER]

    assert kpi_field(home, "New") == "1 ▲1"  # in UTC, both are today's (Sunday's)
