"""Closing and reopening delivered by Slack over signed HTTP: a close with its resolution, the
close form refusing a blank one or arriving after someone else closed the case, and the
requester reopening."""

from __future__ import annotations

from conftest import AGENT, AGENT_2, REQUESTER
from fake_slack import FakeSlack
from helpers import all_text, case_row
from slack_commands_helpers import (
    buttons,
    card,
    claimed_case,
    closed_case,
    latest_in_thread,
    run,
    sources,
)
from slack_driver import SlackDriver

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CaseStatus

# close and reopen


def test_agent_closes_a_case_with_a_resolution(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    result = slack.command(AGENT, "close 1 Replaced the toner")

    assert "You closed case #1." in result.reply_text
    closed_card = card(fake_slack)
    assert closed_card["ts"] == card_ts
    assert "*Resolution:* Replaced the toner" in all_text(closed_card)
    assert buttons(closed_card) == [ActionId.REOPEN]
    assert "closed this case: Replaced the toner" in latest_in_thread(fake_slack, card_ts)
    case = case_row(casedesk)
    assert (case.status, case.resolution, case.closed_by) == (
        CaseStatus.CLOSED,
        "Replaced the toner",
        AGENT,
    )
    assert sources(casedesk, "closed") == ["command"]


def test_close_button_opens_a_form_that_refuses_a_blank_resolution(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    asked = slack.click(AGENT, ActionId.CLOSE, "1", message_ts=card_ts)
    form = fake_slack.opened_views()[-1]
    blank = slack.submit(AGENT, form, {"resolution": "  "})

    assert asked.responses == []
    assert (form["callback_id"], form["title"]["text"]) == ("case_close_modal", "Close #1")
    assert blank.status == 200
    assert blank.json() == {
        "response_action": "errors",
        "errors": {"resolution": "Please describe the resolution."},
    }
    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS

    slack.submit(AGENT, form, {"resolution": "Rebooted the print server"})

    assert case_row(casedesk).resolution == "Rebooted the print server"
    assert sources(casedesk, "closed") == ["modal"]
    assert buttons(card(fake_slack)) == [ActionId.REOPEN]
    assert "You closed case #1." in fake_slack.ephemerals(AGENT)[-1]["text"]


def test_a_form_submitted_after_someone_else_closed_the_case_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)
    slack.click(AGENT, ActionId.ESCALATE, "1", message_ts=card_ts)
    form = fake_slack.opened_views()[-1]
    run(slack, AGENT_2, "close 1 Duplicate of #7", "You closed case #1")

    slack.submit(AGENT, form, {"reason": "Still burning"})

    told = fake_slack.ephemerals(AGENT)[-1]["text"]
    assert "Case #1 is already closed by <@U0AGENT2>" in told
    assert "so you cannot escalate it" in told
    assert (case_row(casedesk).escalation_level, sources(casedesk, "escalated")) == (0, [])


def test_requester_reopens_their_closed_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = closed_case(slack)

    result = slack.command(REQUESTER, "reopen 1 It is jammed again")

    assert "Case #1 is reopened." in result.reply_text
    reopened_card = card(fake_slack)
    assert "Case #1 (P3, in progress)" in reopened_card["text"]
    assert buttons(reopened_card) == [ActionId.ASSIGN, ActionId.ESCALATE, ActionId.CLOSE]
    assert "reopened 1×" in all_text(reopened_card)
    assert "<@U0REQUESTER> reopened this case: It is jammed again" in latest_in_thread(
        fake_slack, card_ts
    )
    case = case_row(casedesk)
    assert (case.status, case.assignee_id, case.reopen_count, case.resolution) == (
        CaseStatus.IN_PROGRESS,
        AGENT,
        1,
        None,
    )
    assert sources(casedesk, "reopened") == ["command"]
