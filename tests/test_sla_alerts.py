"""SLA warnings and breaches, end to end: a case opened over HTTP, the clock moved, the
sla-check job run, the posts seen at the fake Slack API."""

from __future__ import annotations

from datetime import timedelta

from conftest import AGENT, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import all_text, case_row, open_case, run_sla_check
from sla_delivery_helpers import (
    alert_storm,
    digesting_desk_fixture,  # noqa: F401  (the desk_config fixture)
)
from slack_driver import SlackDriver
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from models import CaseEvent, SlaAlert


def test_warning_then_breach_each_posted_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    # Monday 10:00 in Berlin: first response is due at 11:00, warning at 10:45.
    card_ts = open_case(slack)

    clock.advance(timedelta(minutes=46))
    assert run_sla_check(casedesk) == "1 warning(s), 0 breach(es)"
    warning = fake_slack.thread(SUPPORT_CHANNEL, card_ts)[-1]
    assert "First response for case #1 is due" in warning["blocks"][0]["text"]["text"]

    clock.advance(timedelta(minutes=15))
    assert run_sla_check(casedesk) == "0 warning(s), 1 breach(es)"
    alert = fake_slack.messages("C0ALERTS")[-1]
    assert alert["text"] == "SLA breached: first response for case #1"
    buttons = [e["text"]["text"] for e in alert["blocks"][-1]["elements"]]
    assert buttons == ["Claim", "Escalate", "Open case"]
    assert alert["blocks"][-1]["elements"][-1]["url"].startswith("https://test.slack.com/archives/")

    assert run_sla_check(casedesk) == "0 warning(s), 0 breach(es)"
    with casedesk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(SlaAlert)) == 2
        events = session.scalars(select(CaseEvent.action).order_by(CaseEvent.id)).all()
    assert [e.value for e in events] == ["opened", "sla_warning", "sla_breached"]
    card = fake_slack.messages(SUPPORT_CHANNEL)[0]
    assert any("SLA breached" in str(block) for block in card["blocks"])


def test_first_agent_reply_stops_the_first_response_clock(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    card_ts = open_case(slack)
    clock.advance(timedelta(minutes=10))
    slack.thread_reply(AGENT, SUPPORT_CHANNEL, card_ts, "Looking into it")

    clock.advance(timedelta(hours=2))
    assert run_sla_check(casedesk) == "0 warning(s), 0 breach(es)"
    case = case_row(casedesk)
    assert case.first_response_due_at is None
    assert case.resolution_due_at is not None


def test_p1_breach_escalates_the_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open p1 Site down")
    clock.advance(timedelta(minutes=16))
    assert run_sla_check(casedesk) == "0 warning(s), 1 breach(es), 1 escalated"
    assert case_row(casedesk).escalation_level == 1


def test_a_breach_that_escalates_the_case_tells_which_target_breached(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open p1 Site down")
    clock.advance(timedelta(minutes=16))
    run_sla_check(casedesk)

    said = "Casedesk escalated this case to level 1: First response SLA breached"
    card_ts = case_row(casedesk).card_ts
    assert card_ts is not None
    assert any(said in all_text(post) for post in fake_slack.thread(SUPPORT_CHANNEL, card_ts))
    assert said in slack.command(AGENT, "show 1").reply_text


def test_alert_storm_becomes_one_digest(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    assert "5 breach(es), 2 digest(s)" in alert_storm(slack, casedesk, clock, cases=5)
    digest = fake_slack.messages("C0ALERTS")[-1]
    assert digest["text"] == "SLA alerts: 5 breached, 0 due soon"
