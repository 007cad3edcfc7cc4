"""A case from open to close, driven through the real app over signed HTTP requests."""

from __future__ import annotations

from conftest import AGENT, MANAGER, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from slack_driver import SlackDriver
from sqlalchemy import select

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import Case, CaseEvent


def test_requester_opens_a_case_and_the_card_is_posted_in_the_team_channel(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    result = slack.command(REQUESTER, "open p2 Printer on fire", channel="C0HELP")

    assert result.status == 200
    assert "Opened case #1" in result.reply_text
    card = fake_slack.messages(SUPPORT_CHANNEL)[0]
    assert card["text"].startswith("Case #1 (P2, open): Printer on fire")
    buttons = [
        e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [ActionId.CLAIM, ActionId.ASSIGN, ActionId.ESCALATE, ActionId.CLOSE]
    with casedesk.db.read_only() as session:
        case = session.scalars(select(Case)).one()
        assert (case.card_ts, case.channel_id, case.priority) == (card["ts"], SUPPORT_CHANNEL, "p2")


def test_agent_claims_from_the_card_and_closes_with_a_resolution(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Cannot log in")
    card_ts = fake_slack.messages(SUPPORT_CHANNEL)[0]["ts"]

    claimed = slack.click(AGENT, ActionId.CLAIM, "1", message_ts=card_ts)
    assert "You claimed case #1" in claimed.reply_text
    closed = slack.command(AGENT, "close 1 Reset the password")
    assert "You closed case #1" in closed.reply_text

    thread = [m["text"] for m in fake_slack.thread(SUPPORT_CHANNEL, card_ts)]
    assert thread == ["Case #1: claimed", "Case #1: closed"]
    final_card = fake_slack.messages(SUPPORT_CHANNEL)[0]
    assert "closed" in final_card["text"]
    with casedesk.db.read_only() as session:
        actions = [
            e.action.value for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id))
        ]
    assert actions == ["opened", "claimed", "closed", "csat_requested"]


def test_manager_escalates_through_the_modal(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.command(REQUESTER, "open Refund missing")
    slack.click(MANAGER, ActionId.ESCALATE, "1")
    view = fake_slack.opened_views()[-1]
    result = slack.submit(MANAGER, view, {"reason": "Customer is a key account", "team": "billing"})

    assert result.status == 200
    billing_card = fake_slack.messages("C0BILLING")[0]
    assert "Refund missing" in billing_card["text"]
