"""Daily and weekly team summaries, end to end: a history written through `/case` over HTTP,
the summary jobs run at chosen moments, and the posts (with their chart) seen at the fake Slack
API. Support works office hours in Berlin, so its summaries follow Berlin's days and 09:00;
billing has no calendar and follows UTC."""

from __future__ import annotations

import io
import os
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import matplotlib.image
import pytest
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_CHANNEL,
    BOT_TOKEN,
    DESK_YAML,
    REQUESTER,
    SIGNING_SECRET,
    START,
    SUPPORT_CHANNEL,
    sla_desk,
)
from fake_slack import FakeSlack
from helpers import REPO, Json, kpi_field, run_cli, run_job
from slack_driver import SlackDriver
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.clock import ManualClock
from bot.db import Database
from bot.desk import DeskConfig, Team
from bot.ids import ActionId
from bot.metrics.summaries import Period
from bot.metrics.views import SummaryReport
from bot.runtime.assembly import Casedesk
from models import OutboxMessage, SummaryPost

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MINUTE = timedelta(minutes=1)
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


@pytest.fixture
def desk_config(request: pytest.FixtureRequest) -> DeskConfig:
    """Drawing the chart takes a while, so only the tests about it have one
    (`@with_chart`); the chart changes nothing else in the post."""
    chart = getattr(request, "param", None) == WITH_CHART
    return sla_desk(SLA_YAML + f"  chart: {str(chart).lower()}\n", source="summary test desk")


with_chart = pytest.mark.parametrize("desk_config", [WITH_CHART], indirect=True)


# Helpers: running the jobs, and reading the posts


def summaries(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> list[Json]:
    """The summary posts in a channel (its top-level messages other than case cards)."""
    return [m for m in fake.messages(channel) if " summary for " in m["text"]]


def only_summary(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> Json:
    posted = summaries(fake, channel)
    assert len(posted) == 1, [m["text"] for m in posted]
    return posted[0]


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


def section_starting(message: Json, start: str) -> str:
    found = [text for text in section_texts(message) if text.startswith(start)]
    assert found, f"no section starting {start!r} in {section_texts(message)}"
    return found[0]


def card_ts(fake: FakeSlack, number: int) -> str:
    return next(
        str(m["ts"])
        for m in fake.messages(SUPPORT_CHANNEL)
        if str(m["text"]).startswith(f"Case #{number} (")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def uploaded_chart(fake: FakeSlack, channel: str, summary: Json) -> bytes:
    """The chart shared in the summary's thread, as uploaded."""
    [shared] = [m for m in fake.thread(channel, summary["ts"]) if m.get("files")]
    [file] = shared["files"]
    return fake.files[file["id"]]


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


@pytest.fixture
def monday(slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock) -> SlackDriver:
    a_day_of_support(slack, fake_slack, clock)
    return slack


# The daily summary


def test_daily_summary_reports_yesterdays_kpis_backlog_and_agents_in_valid_block_kit(
    monday: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    summary = mondays_summary(fake_slack, casedesk, clock)
    assert title(summary) == f"Customer Support: daily summary for {MONDAY_LABEL}"
    assert summary["text"] == (
        f"Customer Support: daily summary for {MONDAY_LABEL}: 3 new, 2 resolved, 1 in backlog"
    )
    assert kpi_field(summary, "New") == "3 ▲3 · 7-day avg 0.0"
    assert kpi_field(summary, "Resolved") == "2 ▲2 · 7-day avg 0.0"
    assert kpi_field(summary, "Reopened") == "0 · 7-day avg 0.0"
    assert kpi_field(summary, "Escalated") == "1 ▲1 · 7-day avg 0.0"
    assert kpi_field(summary, "First response") == "median 20 min · p90 28 min"
    assert kpi_field(summary, "Resolution time") == "median 1 h 30 min · p90 1 h 54 min"
    assert kpi_field(summary, "SLA first response") == "100% (2/2)"
    assert kpi_field(summary, "SLA resolution") == "100% (2/2)"
    assert kpi_field(summary, "SLA breaches") == "0 · 7-day avg 0.0"
    assert kpi_field(summary, "First-contact resolution") == "50% (1/2)"
    assert kpi_field(summary, "Escalation rate") == "33% (1/3)"
    assert kpi_field(summary, "Reopen rate") == "0% (0/2)"
    assert kpi_field(summary, "CSAT") == "4.00/5 · 4★1"
    assert kpi_field(summary, "CSAT response rate") == "50% (1/2)"

    assert section_starting(summary, "*Backlog at end of period:*") == (
        "*Backlog at end of period:* 1 ▲1\nby status: open 1\nby priority: P3 1"
    )
    assert "Cannot log in · P3" in section_starting(summary, "*Oldest open cases*")
    assert section_starting(summary, "*Per agent*").splitlines()[1:] == [
        f"• <@{AGENT}>: handled 1 · resolved 1 · median first response 10 min · open now 0",
        f"• <@{AGENT_2}>: handled 1 · resolved 1 · median first response 30 min · open now 0",
        "• <@U0MANAGER>: handled 0 · resolved 0 · median first response no data · open now 0",
    ]

    refused = [(call.method, call.error) for call in fake_slack.calls if call.error]
    assert refused == []  # no invalid_blocks, nor anything else Slack would refuse
    assert len(summary["blocks"]) <= 50
    field_counts = [len(block["fields"]) for block in summary["blocks"] if block.get("fields")]
    assert field_counts == [6, 8]  # every KPI shown, none cut at Slack's 10 per section


@with_chart
def test_daily_summary_chart_is_a_png_posted_in_the_summarys_thread(
    monday: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    summary = mondays_summary(fake_slack, casedesk, clock)
    chart = uploaded_chart(fake_slack, SUPPORT_CHANNEL, summary)
    width, height = png_size(chart)
    assert 200 <= width <= 4000
    assert 100 <= height <= 4000
    pixels = matplotlib.image.imread(io.BytesIO(chart), format="png")
    assert pixels.shape[:2] == (height, width)
    [shared] = [m for m in fake_slack.thread(SUPPORT_CHANNEL, summary["ts"]) if m.get("files")]
    assert shared["files"][0]["name"] == "support-daily-2026-11-23.png"


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
    assert casedesk.summaries.post("support", period).startswith("The daily summary of")
    assert casedesk.summaries.post("support", period, force=True) == (
        f"Queued the daily summary of Customer Support for {MONDAY_LABEL}."
    )
    casedesk.outbox.deliver_due()
    again = summaries(fake_slack)
    assert [title(m) for m in again] == [f"Customer Support: daily summary for {MONDAY_LABEL}"] * 2
    assert kpi_field(again[1], "New") == "3 ▲3 · 7-day avg 0.0"


def test_each_figure_sets_against_the_day_before_and_the_week_before_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    """The week before Monday (Mon 16 to Sun 22 Nov): one case a day at 11:00 in Berlin,
    closed half an hour later; those of Monday to Thursday answered after 10 minutes.
    Then Monday as usual (three cases, two closed)."""
    for day in range(16, 23):
        clock.set(datetime(2026, 11, day, 10, 0, tzinfo=UTC))
        slack.command(REQUESTER, f"open Case of the {day}th")
        number = day - 15
        slack.command(AGENT, f"claim {number}")
        if day <= 19:
            clock.advance(10 * MINUTE)
            slack.thread_reply(AGENT, SUPPORT_CHANNEL, card_ts(fake_slack, number), "On it")
        clock.set(datetime(2026, 11, day, 10, 30, tzinfo=UTC))
        slack.command(AGENT, f"close {number} Done")
    a_day_of_support_from(slack, fake_slack, clock, first=8)

    summary = mondays_summary(fake_slack, casedesk, clock)

    assert kpi_field(summary, "New") == "3 ▲2 · 7-day avg 1.0"
    assert kpi_field(summary, "Resolved") == "2 ▲1 · 7-day avg 1.0"
    assert kpi_field(summary, "First response") == (
        "median 20 min · p90 28 min · 7-day median 10 min"
    )
    assert kpi_field(summary, "First-contact resolution") == "50% (1/2) ▼50 pt · 7-day 100%"
    assert kpi_field(summary, "Escalation rate") == "33% (1/3) ▲33 pt · 7-day 0%"


def test_the_day_before_is_followed_no_longer_than_the_day_reported(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    """Sunday's case, closed that evening, is reopened on Monday at 13:00 in Berlin: more than
    the 10 hours Monday has had by the time its summary goes out on Tuesday at 10:01. Set
    against Monday, Sunday is seen as Monday is: not reopened (yet)."""
    clock.set(datetime(2026, 11, 22, 18, 0, tzinfo=UTC))
    slack.command(REQUESTER, "open Sunday's")
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "close 1 Done")
    a_day_of_support_from(slack, fake_slack, clock, first=2)
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    slack.command(REQUESTER, "reopen 1 Still broken")

    summary = mondays_summary(fake_slack, casedesk, clock)

    assert kpi_field(summary, "Reopened") == "1 ▲1 · 7-day avg 0.0"
    assert kpi_field(summary, "Reopen rate") == "0% (0/2) · 7-day 0%"  # Sunday: 0/1 by then


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


def test_a_team_without_cases_is_told_there_were_none(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    summary = mondays_summary(fake_slack, casedesk, clock, BILLING_CHANNEL)
    assert title(summary) == f"Billing: daily summary for {MONDAY_LABEL}"
    assert ":zzz: No cases yesterday." in section_texts(summary)
    assert summary["text"].endswith("0 new, 0 resolved, 0 in backlog. No cases yesterday.")
    assert kpi_field(summary, "First response") == "_no data_"
    assert kpi_field(summary, "CSAT") == "_no data_"
    assert "*Backlog at end of period:* empty :tada:" in section_texts(summary)


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


@with_chart
def test_a_failed_chart_upload_does_not_hold_back_the_summary(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    fake_slack.fail_next("files.getUploadURLExternal", error="not_allowed_token_type", times=2)
    summary = mondays_summary(fake_slack, casedesk, clock)
    assert title(summary) == f"Customer Support: daily summary for {MONDAY_LABEL}"
    assert fake_slack.thread(SUPPORT_CHANNEL, summary["ts"]) == []
    assert fake_slack.files == {}
    assert len(fake_slack.calls_to("files.getUploadURLExternal")) == 2

    clock.advance(10 * MINUTE)
    run_job(casedesk, "deliver-outbox")
    assert len(summaries(fake_slack)) == 1
    with casedesk.db.read_only() as session:
        states = session.scalars(
            select(OutboxMessage.state).where(OutboxMessage.kind == "summary_daily")
        ).all()
    assert sorted(states) == ["sent", "sent"]


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


# `python -m bot run-job`


@pytest.fixture
def cli_env(tmp_path: Path, fake_slack: FakeSlack) -> dict[str, str]:
    config = tmp_path / "app.yaml"
    config.write_text(DESK_YAML + "summary: {chart: false}\n", encoding="utf-8")
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SLACK_API_URL": fake_slack.base_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SUPPORT_CONFIG": str(config),
        "SLACK_CHANNEL_INTERVAL": "0",
        "MPLBACKEND": "Agg",
    }


def test_run_job_posts_the_daily_summary_of_a_chosen_day_once_unless_forced(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    post = ("run-job", "daily-summary", "--team", "support", "--date", "2026-11-23")

    first = run_cli(cli_env, tmp_path, *post)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        f"daily-summary: Queued the daily summary of Customer Support for {MONDAY_LABEL}."
    )
    assert "(1 message(s) sent, 0 to retry, 0 failed)" in first.stdout
    assert [title(m) for m in summaries(fake_slack)] == [
        f"Customer Support: daily summary for {MONDAY_LABEL}"
    ]
    assert summaries(fake_slack, BILLING_CHANNEL) == []

    again = run_cli(cli_env, tmp_path, *post)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(
        f"daily-summary: The daily summary of Customer Support for {MONDAY_LABEL} was already "
        "posted; use --force to post it again."
    )
    assert "(0 message(s) sent" in again.stdout
    assert len(summaries(fake_slack)) == 1

    forced = run_cli(cli_env, tmp_path, *post, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Queued the daily summary of Customer Support" in forced.stdout
    assert len(summaries(fake_slack)) == 2


def test_run_job_refuses_a_day_that_is_not_over_and_records_nothing(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()

    refused = run_cli(cli_env, tmp_path, "run-job", "daily-summary", "--date", tomorrow)
    later = run_cli(cli_env, tmp_path, "run-job", "daily-summary", "--date", tomorrow)

    for result in (refused, later):
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr.count("\n") == 1, result.stderr
        assert "can only be posted once that period is over" in result.stderr
    assert summaries(fake_slack) == []
    database = Database(cli_env["DATABASE_URL"])
    try:
        with database.read_only() as session:
            assert session.scalars(select(SummaryPost)).all() == []
            assert session.scalars(select(OutboxMessage)).all() == []
    finally:
        database.dispose()


def test_run_job_posts_nothing_while_summaries_are_turned_off(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = Path(cli_env["SUPPORT_CONFIG"])
    config.write_text(DESK_YAML + "summary: {enabled: false}\n", encoding="utf-8")

    result = run_cli(cli_env, tmp_path, "run-job", "daily-summary", "--date", "2026-11-23")

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "daily-summary: summaries are turned off (summary.enabled in app.yaml); nothing posted.\n"
    )
    assert summaries(fake_slack) == []


def test_run_job_without_options_says_when_the_due_summary_was_already_posted(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    first = run_cli(cli_env, tmp_path, "run-job", "daily-summary")
    again = run_cli(cli_env, tmp_path, "run-job", "daily-summary")

    assert first.returncode == 0, first.stderr
    assert first.stdout.count("Queued the daily summary") == 2  # support and billing
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("was already posted; use --force to post it again.") == 2
    assert len(summaries(fake_slack)) == 1


def test_every_unassigned_case_at_risk_gets_its_own_claim_button(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    """Eight cases opened Monday, all overdue for a first response on Tuesday; #2 claimed.
    Each unassigned one gets a Claim button beside its line (not only the first five, and
    never two buttons of one action_id in one block, which Slack refuses)."""
    clock.set(START)
    for number in range(1, 9):
        slack.command(REQUESTER, f"open Broken thing {number}")
    slack.command(AGENT, "claim 2")

    summary = mondays_summary(fake_slack, casedesk, clock)

    assert [(call.method, call.error) for call in fake_slack.calls if call.error] == []
    at_risk = [
        block
        for block in summary["blocks"]
        if "text" in block and block["text"]["text"].endswith("· overdue")
    ]
    assert len(at_risk) == 8
    claims = [block["accessory"] for block in at_risk if "accessory" in block]
    assert [(claim["action_id"], claim["value"]) for claim in claims] == [
        (ActionId.CLAIM, str(n)) for n in (1, 3, 4, 5, 6, 7, 8)
    ]
    assert not any(block["type"] == "actions" for block in summary["blocks"])

    claimed = slack.click(
        AGENT_2, ActionId.CLAIM, "8", channel=SUPPORT_CHANNEL, message_ts=summary["ts"]
    )
    assert claimed.status == 200, claimed.body
    thread = fake_slack.thread(SUPPORT_CHANNEL, card_ts(fake_slack, 8))
    said = [text for reply in thread for text in section_texts(reply)]
    assert f":raising_hand: <@{AGENT_2}> claimed this case." in said
