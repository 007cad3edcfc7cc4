"""`/case stats`, end to end over signed HTTP against the fake Slack API: today's KPIs of the
channel's team answered privately, with the backlog, each agent's work and yesterday's same
hours, for a named team and window too."""

from __future__ import annotations

import pytest
from conftest import AGENT, REQUESTER, START
from csat_stats_home_export_helpers import (
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    header_texts,
    the_reply,
)
from helpers import DAY, HOUR, MINUTE, Json, kpi_field
from slack_driver import SlackDriver
from summaries_helpers import kpis_as_shown

from bot.clock import ManualClock

# /case stats


def shown(reply: Json) -> str:
    """What a one-line answer shows: its section's mrkdwn (the fallback drops the markup)."""
    [block] = reply["blocks"]
    return str(block["text"]["text"])


@pytest.fixture
def stats_history(slack: SlackDriver, clock: ManualClock) -> SlackDriver:
    """Billing: a case ten days ago and one two days ago. Support, today: two cases, one
    claimed and closed after half an hour."""
    clock.set(START - 10 * DAY)
    slack.command(REQUESTER, "open team:billing Old invoice")
    clock.set(START - 2 * DAY)
    slack.command(REQUESTER, "open team:billing Wrong invoice")
    clock.set(START)
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(REQUESTER, "open VPN down")
    slack.command(AGENT, "claim 3")
    clock.advance(30 * MINUTE)
    slack.command(AGENT, "close 3 Replaced the toner")
    clock.advance(MINUTE)
    return slack


def test_stats_answers_privately_with_todays_kpis_of_the_channels_team(
    stats_history: SlackDriver,
) -> None:
    reply = the_reply(stats_history.command(AGENT, "stats"))

    assert reply["response_type"] == "ephemeral"
    assert header_texts(reply["blocks"]) == ["Customer Support: today so far"]
    shown = {
        "New": "2 ▲2",
        "Resolved": "1 ▲1",
        "Resolution time": "median 30 min · p90 30 min",
        "First-contact resolution": "100% (1/1)",
    }
    assert kpis_as_shown(reply, shown) == shown


def test_stats_also_show_the_backlog_and_the_work_of_each_agent(
    stats_history: SlackDriver,
) -> None:
    reply = the_reply(stats_history.command(AGENT, "stats"))

    sections = [
        b["text"]["text"] for b in reply["blocks"] if "text" in b and b["type"] == "section"
    ]
    assert "*Backlog at end of period:* 1 ▲1\nby status: open 1\nby priority: P3 1" in sections
    agents = next(text for text in sections if text.startswith("*Per agent*"))
    assert agents.splitlines()[1].startswith(f"• <@{AGENT}>: handled 1 · resolved 1 · ")
    assert reply["text"] == "Customer Support: today so far: 2 new, 1 resolved, 1 in backlog"


def test_stats_today_compares_with_the_same_hours_of_yesterday(
    slack: SlackDriver, clock: ManualClock
) -> None:
    """START is Monday 09:00 UTC. Sunday had one case in the morning and three at night."""
    clock.set(START - DAY - 30 * MINUTE)
    slack.command(REQUESTER, "open Sunday morning")
    clock.set(START - 10 * HOUR)
    for title in ("Late one", "Late two", "Late three"):
        slack.command(REQUESTER, f"open {title}")
    clock.set(START - HOUR)
    slack.command(REQUESTER, "open Monday morning")
    clock.set(START)

    reply = the_reply(slack.command(AGENT, "stats today"))

    assert kpi_field(reply, "New") == "1"  # as many as by this time yesterday: no arrow


def test_stats_for_a_named_team_and_window(stats_history: SlackDriver) -> None:
    reply = the_reply(stats_history.command(AGENT, "stats team:billing 7d"))

    assert reply["response_type"] == "ephemeral"
    assert header_texts(reply["blocks"]) == ["Billing: last 7 days"]
    shown = {
        "New": "1",  # as many as the 7 days before
        "Resolved": "0",
        "First response": "_no data_",
    }
    assert kpis_as_shown(reply, shown) == shown


def test_stats_for_an_unknown_team_is_refused_politely(slack: SlackDriver) -> None:
    reply = the_reply(slack.command(AGENT, "stats team:nope"))

    assert reply["response_type"] == "ephemeral"
    assert shown(reply) == "There is no team `nope`. Teams: `support`, `billing`, `sales`."


def test_stats_for_an_unknown_window_shows_the_usage(slack: SlackDriver) -> None:
    reply = the_reply(slack.command(AGENT, "stats forever"))

    assert shown(reply) == (
        "`forever` is not a period. Usage: `/case stats [team:<key>] [today|yesterday|7d|30d]`."
    )
