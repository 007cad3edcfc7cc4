"""What people see of the SLA: `/case sla` explains each clock with its starts, pauses and what
is left, and the card shows when the first response is due in business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import AGENT, REQUESTER, START, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from sla_delivery_helpers import (
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    plain_dates,
)
from slack_driver import SlackDriver

from bot.clock import ManualClock

# Helpers: acting on cases, running the job, reading what happened


def all_text(value: Any) -> list[str]:
    """Every `text` string in a Slack payload, depth first."""
    if isinstance(value, dict):
        own = [value["text"]] if isinstance(value.get("text"), str) else []
        return own + [part for item in value.values() for part in all_text(item)]
    if isinstance(value, list):
        return [part for item in value for part in all_text(item)]
    return []


# What people see: `/case sla` and the card


def test_case_sla_explains_each_clock_with_its_starts_pauses_and_what_is_left(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(AGENT, "claim 1")
    clock.advance(timedelta(minutes=5))
    card = fake_slack.messages(SUPPORT_CHANNEL)[0]["ts"]
    slack.thread_reply(AGENT, SUPPORT_CHANNEL, card, "Looking into it")
    clock.set(START + timedelta(minutes=30))
    slack.command(AGENT, "pending 1 the printer's serial number")
    clock.set(START + timedelta(hours=2, minutes=30))
    slack.command(AGENT, "resume 1")
    clock.set(START + timedelta(hours=2, minutes=40))

    explained = plain_dates(slack.command(AGENT, "sla 1").reply_text).splitlines()

    # Resolution: Mon 10:00-10:30 and 12:30-12:40 CET used (40 min of 8 h). The 7 h 30 min
    # left at the resume run Mon 12:30-17:00 and Tue 09:00-12:00 CET: due Tue 11:00 UTC.
    assert explained == [
        "SLA clocks of case #1",
        "SLA clocks of case #1",
        "P3 in support · calendar `office` · warn at 75% · on breach: alert",
        "*First response* · target 1 h · used 5 min · stopped 2026-11-23 09:05 UTC",
        "• 2026-11-23 09:00 UTC start: case opened",
        f"• 2026-11-23 09:05 UTC met: first agent reply by <@{AGENT}>",
        "*Resolution* · target 8 h · used 40 min · 7 h 20 min left, due 2026-11-24 11:00 UTC",
        "• 2026-11-23 09:00 UTC start: case opened",
        "• 2026-11-23 09:30 UTC pause: waiting on the requester",
        "• 2026-11-23 11:30 UTC resume: back in progress",
    ]


def test_the_card_shows_when_the_first_response_is_due_in_business_time(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # Monday 16:30 in Berlin
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(timedelta(minutes=10))
    slack.command(AGENT, "claim 1")

    card = fake_slack.messages(SUPPORT_CHANNEL)[0]
    sla_lines = [plain_dates(t) for t in all_text(card["blocks"]) if ":stopwatch:" in t]
    # 16:40 CET: 20 min left today, then 09:00-09:30 tomorrow; 16 h away on the wall clock.
    assert sla_lines == [
        ":stopwatch: first response due 2026-11-24 08:30 UTC",
        ":stopwatch: resolution due 2026-11-24 15:30 UTC",
    ]
