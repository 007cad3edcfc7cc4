"""The weekly summary, end to end: it covers the previous ISO week."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import AGENT, BILLING_CHANNEL, REQUESTER, START
from fake_slack import FakeSlack
from helpers import kpi_field, run_job
from slack_driver import SlackDriver
from summaries_helpers import (
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    only_summary,
    section_texts,
    title,
)

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk

# The weekly summary


def test_weekly_summary_covers_the_previous_iso_week(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))  # Sunday of week 47
    slack.command(REQUESTER, "open Last week's problem")
    clock.set(START)  # week 48
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(REQUESTER, "open VPN down")
    slack.command(AGENT, "close 2 Restarted the router")
    clock.set(datetime(2026, 11, 29, 22, 0, tzinfo=UTC))  # Sunday 23:00 in Berlin: week 48
    slack.command(REQUESTER, "open Late on Sunday")
    clock.set(datetime(2026, 11, 29, 23, 30, tzinfo=UTC))  # Sunday in UTC, Monday in Berlin
    slack.command(REQUESTER, "open Just after midnight in Berlin")
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # Monday 10:30 in Berlin, week 49
    slack.command(REQUESTER, "open This week's problem")

    run_job(casedesk, "weekly-summary")
    run_job(casedesk, "weekly-summary")

    summary = only_summary(fake_slack)
    assert title(summary) == (
        "Customer Support: weekly summary for week 48 of 2026 (23 Nov – 29 Nov)"
    )
    assert kpi_field(summary, "New") == "3 ▲2"
    assert kpi_field(summary, "Resolved") == "1 ▲1"
    billing = only_summary(fake_slack, BILLING_CHANNEL)
    assert ":zzz: No cases in this period." in section_texts(billing)
