"""When the daily summary is posted, end to end: each period once (and again only when forced,
the database refusing a second record), at `daily_at` in the team's time zone, only the latest
due day after downtime, and each team's even when another's fails. Support's days and 09:00 are
Berlin's; billing's are UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import BILLING_CHANNEL, REQUESTER, START, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import MINUTE, kpi_field, run_job
from slack_driver import SlackDriver
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from summaries_helpers import (
    MONDAY_LABEL,
    TUESDAY_0901_UTC,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    monday_fixture,  # noqa: F401  (the monday fixture)
    mondays_summary,
    only_summary,
    summaries,
    title,
)

from bot.clock import ManualClock
from bot.desk import Team
from bot.metrics.summaries import Period
from bot.metrics.views import SummaryReport, posting_outcome
from bot.runtime.casedesk import Casedesk
from models import SummaryPost

# The daily summary


def test_a_period_is_posted_once_and_again_only_when_forced(
    monday: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(TUESDAY_0901_UTC)
    first = run_job(casedesk, "daily-summary")
    clock.advance(5 * MINUTE)
    second = run_job(casedesk, "daily-summary")

    assert first.startswith("Queued the daily summary of Customer Support for Mon 23 Nov 2026.")
    assert second == "nothing due; 0 message(s) sent, 0 to retry, 0 failed"
    assert len(summaries(fake_slack)) == 1

    support = casedesk.desk.team("support")
    period = casedesk.summaries.due_period(support, "daily")
    assert posting_outcome(casedesk.summaries.post("support", period)) == (
        f"The daily summary of Customer Support for {MONDAY_LABEL} was already posted; "
        "use --force to post it again."
    )
    assert posting_outcome(casedesk.summaries.post("support", period, force=True)) == (
        f"Queued the daily summary of Customer Support for {MONDAY_LABEL}."
    )
    casedesk.outbox.deliver_due()
    again = summaries(fake_slack)
    assert [title(m) for m in again] == [f"Customer Support: daily summary for {MONDAY_LABEL}"] * 2
    assert kpi_field(again[1], "New") == "3 ▲3 · 7-day avg 0.0"


def test_one_teams_failing_summary_does_not_cost_the_others_theirs(
    monday: SlackDriver,
    fake_slack: FakeSlack,
    casedesk: Casedesk,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = casedesk.summaries.report

    def billing_breaks(team: Team, period: Period) -> SummaryReport:
        if team.key == "billing":
            raise RuntimeError("billing's figures broke")
        return report(team, period)

    monkeypatch.setattr(casedesk.summaries, "report", billing_breaks)

    summary = mondays_summary(fake_slack, casedesk, clock)

    assert title(summary) == f"Customer Support: daily summary for {MONDAY_LABEL}"
    assert summaries(fake_slack, BILLING_CHANNEL) == []


def test_the_database_refuses_a_second_record_of_one_period(
    casedesk: Casedesk, clock: ManualClock
) -> None:
    """What makes a period post once even when two processes decide at the same moment."""
    record = {"team_key": "support", "kind": "daily", "period_start": date(2026, 11, 23)}
    with casedesk.db.unit_of_work() as session:
        session.add(SummaryPost(**record, decided_at=clock.now()))

    with pytest.raises(IntegrityError), casedesk.db.unit_of_work() as session:
        session.add(SummaryPost(**record, decided_at=clock.now()))  # flushed on commit

    with casedesk.db.read_only() as session:
        assert len(session.scalars(select(SummaryPost)).all()) == 1


def test_after_downtime_only_the_latest_due_day_is_posted(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # Thursday
    slack.command(REQUESTER, "open Printer on fire")
    clock.set(datetime(2026, 11, 28, 9, 30, tzinfo=UTC))  # down until Saturday 10:30 in Berlin
    run_job(casedesk, "daily-summary")
    run_job(casedesk, "daily-summary")

    summary = only_summary(fake_slack)
    assert title(summary) == "Customer Support: daily summary for Fri 27 Nov 2026"
    assert kpi_field(summary, "New") == "0 ▼1 · 7-day avg 0.1"


def test_the_daily_summary_waits_for_daily_at_in_the_teams_time_zone(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    def titles(channel: str) -> list[str]:
        return [title(m) for m in summaries(fake_slack, channel)]

    clock.set(START)  # Monday 10:00 in Berlin: Sunday's summaries are due
    run_job(casedesk, "daily-summary")
    clock.set(datetime(2026, 11, 24, 7, 59, tzinfo=UTC))  # Tuesday 08:59 in Berlin
    run_job(casedesk, "daily-summary")
    assert titles(SUPPORT_CHANNEL) == ["Customer Support: daily summary for Sun 22 Nov 2026"]

    clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))  # 09:00 in Berlin, 08:00 in UTC
    run_job(casedesk, "daily-summary")
    assert titles(SUPPORT_CHANNEL) == [
        "Customer Support: daily summary for Sun 22 Nov 2026",
        f"Customer Support: daily summary for {MONDAY_LABEL}",
    ]
    assert titles(BILLING_CHANNEL) == ["Billing: daily summary for Sun 22 Nov 2026"]

    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # 09:00 in UTC
    run_job(casedesk, "daily-summary")
    assert titles(BILLING_CHANNEL) == [
        "Billing: daily summary for Sun 22 Nov 2026",
        f"Billing: daily summary for {MONDAY_LABEL}",
    ]
    assert len(titles(SUPPORT_CHANNEL)) == 2
