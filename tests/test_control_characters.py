"""Control characters in what people type: NULs in titles, notes, thread replies and forms are
removed, and everything is recorded clean on both databases."""

from __future__ import annotations

import json

import pytest
from conftest import AGENT, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import case_row
from slack_driver import SlackDriver
from sqlalchemy import select

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CaseAction, CaseEvent

# Control characters in what people type


def test_a_nul_in_a_title_is_removed_and_the_case_is_opened_on_both_databases(
    slack: SlackDriver, casedesk: Casedesk, caplog: pytest.LogCaptureFixture
) -> None:
    result = slack.command(REQUESTER, "open Printer\x00 on\x07 fire\x1b[31m\r\nsecond\tline")

    assert "Opened case #1" in result.reply_text
    assert case_row(casedesk).title == "Printer on fire[31m\nsecond\tline"
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_nuls_in_notes_thread_replies_and_forms_are_removed_and_everything_is_recorded(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    card_ts = fake_slack.wait_for(lambda fake: fake.messages(SUPPORT_CHANNEL), timeout=10)[0]["ts"]
    slack.command(AGENT, "claim 1")

    noted = slack.command(AGENT, "note 1 Toner\x00 low\x00")
    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, card_ts, "Still\x00 broken\x00")
    slack.click(AGENT, ActionId.CLOSE, "1", message_ts=card_ts)
    closed = slack.submit(AGENT, fake_slack.opened_views()[-1], {"resolution": "New\x00 toner"})

    assert "Traceback" not in noted.reply_text + closed.body
    with casedesk.db.read_only() as session:
        events = session.scalars(select(CaseEvent).order_by(CaseEvent.id)).all()
    texts = {e.action: json.dumps([e.details, e.from_value, e.to_value]) for e in events}
    assert "Toner low" in texts[CaseAction.NOTE]
    assert CaseAction.CUSTOMER_REPLIED in texts
    assert "New toner" in texts[CaseAction.CLOSED]
    assert case_row(casedesk).closed_at is not None
