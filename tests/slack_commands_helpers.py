"""What the modules about `/case` commands, buttons and forms over signed HTTP share: reading
the card, the case thread and the audit trail, and getting a case into a state."""

from __future__ import annotations

from conftest import AGENT, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import Json, all_text, button_elements, open_case
from slack_driver import SlackDriver
from sqlalchemy import func, select

from bot.runtime.casedesk import Casedesk
from models import CaseEvent

# Helpers: what people see


def card(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> Json:
    """The one top-level message in a team channel: the case card."""
    [only] = fake.messages(channel)
    return only


def buttons(message: Json) -> list[str]:
    return [element["action_id"] for element in button_elements(message)]


def thread_texts(fake: FakeSlack, channel: str, thread_ts: str) -> list[str]:
    return [all_text(reply) for reply in fake.thread(channel, thread_ts)]


def latest_in_thread(fake: FakeSlack, thread_ts: str, channel: str = SUPPORT_CHANNEL) -> str:
    texts = thread_texts(fake, channel, thread_ts)
    assert texts, f"nothing was posted in the thread {thread_ts}"
    return texts[-1]


def audit(casedesk: Casedesk, number: int = 1) -> list[tuple[str, str]]:
    """The case's events as (action, source), oldest first."""
    with casedesk.db.read_only() as session:
        rows = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
        ).all()
    return [(row.action.value, row.source.value) for row in rows]


def sources(casedesk: Casedesk, action: str, number: int = 1) -> list[str]:
    """Where each `action` event of the case came from: command, button, modal or thread."""
    return [source for name, source in audit(casedesk, number) if name == action]


def event_of(casedesk: Casedesk, action: str, number: int = 1) -> CaseEvent:
    with casedesk.db.read_only() as session:
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
        ).all()
    return [event for event in events if event.action.value == action][-1]


def event_count(casedesk: Casedesk) -> int:
    with casedesk.db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(CaseEvent)) or 0)


# Helpers: getting a case into a state


def run(slack: SlackDriver, user: str, text: str, expect: str) -> None:
    result = slack.command(user, text)
    assert expect in result.reply_text, result.reply_text


def claimed_case(slack: SlackDriver) -> str:
    card_ts = open_case(slack)
    run(slack, AGENT, "claim 1", "You claimed case #1")
    return card_ts


def pending_case(slack: SlackDriver) -> str:
    card_ts = claimed_case(slack)
    run(slack, AGENT, "pending 1 the logs", "is pending")
    return card_ts


def closed_case(slack: SlackDriver) -> str:
    card_ts = claimed_case(slack)
    run(slack, AGENT, "close 1 Replaced the toner", "You closed case #1")
    return card_ts
