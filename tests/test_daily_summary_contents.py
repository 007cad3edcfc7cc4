"""What the daily summary says, end to end (a history written through `/case` over HTTP, the
post seen at the fake Slack API): yesterday's KPIs, backlog and agents set against the day and
the week before, the chart in its thread, and a Claim button for each case at risk. Support's
days and 09:00 are Berlin's; billing's are UTC's."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime

import matplotlib.image
import pytest
from conftest import AGENT, AGENT_2, BILLING_CHANNEL, REQUESTER, START, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import MINUTE, Json, kpi_field, run_job
from slack_driver import SlackDriver
from sqlalchemy import select
from summaries_helpers import (
    MONDAY_LABEL,
    WITH_CHART,
    a_day_of_support_from,
    card_ts,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    kpis_as_shown,
    monday_fixture,  # noqa: F401  (the monday fixture)
    mondays_summary,
    section_texts,
    summaries,
    title,
)

from bot.clock import ManualClock
from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import OutboxMessage

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


with_chart = pytest.mark.parametrize("desk_config", [WITH_CHART], indirect=True)


# Helpers: running the jobs, and reading the posts


def section_starting(message: Json, start: str) -> str:
    found = [text for text in section_texts(message) if text.startswith(start)]
    assert found, f"no section starting {start!r} in {section_texts(message)}"
    return found[0]


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


def test_daily_summary_reports_yesterdays_kpis_backlog_and_agents_in_valid_block_kit(
    monday: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    summary = mondays_summary(fake_slack, casedesk, clock)
    assert title(summary) == f"Customer Support: daily summary for {MONDAY_LABEL}"
    assert summary["text"] == (
        f"Customer Support: daily summary for {MONDAY_LABEL}: 3 new, 2 resolved, 1 in backlog"
    )
    shown = {
        "New": "3 ▲3 · 7-day avg 0.0",
        "Resolved": "2 ▲2 · 7-day avg 0.0",
        "Reopened": "0 · 7-day avg 0.0",
        "Escalated": "1 ▲1 · 7-day avg 0.0",
        "First response": "median 20 min · p90 28 min",
        "Resolution time": "median 1 h 30 min · p90 1 h 54 min",
        # #3, never answered, missed its first response at 11:00 (an hour of office time).
        "SLA first response": "67% (2/3)",
        "SLA resolution": "100% (2/2)",  # #3's is due on Tuesday
        "SLA breaches": "1 ▲1 · 7-day avg 0.0",
        "First-contact resolution": "50% (1/2)",
        "Escalation rate": "33% (1/3)",
        "Reopen rate": "0% (0/2)",
        "CSAT": "4.00/5 · 4★1",
        "CSAT response rate": "50% (1/2)",
    }
    assert kpis_as_shown(summary, shown) == shown

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

    shown = {
        "New": "3 ▲2 · 7-day avg 1.0",
        "Resolved": "2 ▲1 · 7-day avg 1.0",
        "First response": "median 20 min · p90 28 min · 7-day median 10 min",
        "First-contact resolution": "50% (1/2) ▼50 pt · 7-day 100%",
        "Escalation rate": "33% (1/3) ▲33 pt · 7-day 0%",
    }
    assert kpis_as_shown(summary, shown) == shown


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


def test_each_case_at_risk_says_who_has_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(START)
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(REQUESTER, "open VPN down")
    slack.command(AGENT, "claim 1")

    summary = mondays_summary(fake_slack, casedesk, clock)

    at_risk = [text for text in section_texts(summary) if text.endswith("· overdue")]
    assert [line.split(" · ")[-2] for line in at_risk] == [f"<@{AGENT}>", "_unassigned_"]
