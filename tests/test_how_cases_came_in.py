"""Each case records how it came in (typed, a form, a shortcut, an emoji, a help channel):
the "New" figure splits by it, and the export has it as a column."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import AGENT, HELP_CHANNEL, OUTSIDER, REQUESTER
from csat_stats_home_export_helpers import the_reply
from fake_slack import FakeSlack
from helpers import MINUTE, kpi_field
from intake_helpers import AUTO_INTAKE_YAML, RANDOM_CHANNEL, write
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.desk import DeskConfig, parse_desk_config
from bot.metrics.export import export_cases
from bot.runtime.casedesk import Casedesk


@pytest.fixture
def desk_config() -> DeskConfig:
    return parse_desk_config(AUTO_INTAKE_YAML, source="test desk")


@pytest.fixture
def a_mixed_morning(slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock) -> None:
    """Two cases from the help channel, one from a :ticket:, one typed."""
    write(slack, "Checkout fails")
    clock.advance(10 * MINUTE)
    write(slack, "Login is slow", user=OUTSIDER)
    reacted_to = write(slack, "VPN drops", channel=RANDOM_CHANNEL)
    slack.react(AGENT, RANDOM_CHANNEL, reacted_to["ts"], "ticket")
    slack.command(REQUESTER, "open Printer on fire", channel=HELP_CHANNEL)
    clock.advance(MINUTE)


def test_the_new_figure_says_how_the_cases_came_in(
    slack: SlackDriver, a_mixed_morning: None
) -> None:
    reply = the_reply(slack.command(AGENT, "stats"))

    assert kpi_field(reply, "New") == "4 ▲4\n2 from help channels · 1 by /case · 1 by emoji"


def test_the_export_says_how_each_case_came_in(
    casedesk: Casedesk, clock: ManualClock, a_mixed_morning: None
) -> None:
    out = io.StringIO()
    now = clock.now()
    export_cases(
        casedesk.db,
        team_key="support",
        start=now - 60 * MINUTE,
        end=now,
        now=now,
        fmt="csv",
        out=out,
    )

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(row["case"], row["source"]) for row in rows] == [
        ("1", "channel"),
        ("2", "channel"),
        ("3", "emoji"),
        ("4", "command"),
    ]
