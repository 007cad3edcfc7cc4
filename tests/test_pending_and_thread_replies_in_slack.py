"""Pending, resume and the conversation in the case thread, delivered by Slack over signed HTTP:
the requester's reply resumes a pending case, an agent's first reply is the first response,
Slack's retries are recorded once, and bot messages and edits not at all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import AGENT, AGENT_2, OUTSIDER, REQUESTER, START, SUPPORT_CHANNEL
from fake_slack import BOT_ID, BOT_USER_ID, FakeSlack
from helpers import Json, all_text, case_row, open_case
from slack_commands_helpers import (
    audit,
    card,
    claimed_case,
    event_of,
    latest_in_thread,
    pending_case,
    sources,
    thread_texts,
)
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from models import CaseStatus

# Helpers: what people see


def thread_message(user: str, thread_ts: str, ts: str, **extra: Any) -> Json:
    """A message event as the Events API delivers it for a reply in a support-channel thread."""
    return {
        "type": "message",
        "channel": SUPPORT_CHANNEL,
        "user": user,
        "text": "hello",
        "ts": ts,
        "thread_ts": thread_ts,
        "channel_type": "channel",
        **extra,
    }


# pending and resume


def test_agent_parks_a_case_as_pending_and_resumes_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    parked = slack.command(AGENT, "pending 1 Waiting for the error logs")

    assert "Case #1 is pending until the requester answers." in parked.reply_text
    assert "Waiting on the requester:* Waiting for the error logs" in all_text(card(fake_slack))
    assert "is waiting on the requester: Waiting for the error logs" in latest_in_thread(
        fake_slack, card_ts
    )
    assert case_row(casedesk).status is CaseStatus.PENDING

    resumed = slack.command(AGENT, "resume 1")

    assert "Case #1 is back in progress." in resumed.reply_text
    assert "Waiting on the requester" not in all_text(card(fake_slack))
    assert "Back in progress by <@U0AGENT1>." in latest_in_thread(fake_slack, card_ts)
    case = case_row(casedesk)
    assert (case.status, case.pending_reason) == (CaseStatus.IN_PROGRESS, None)
    assert (sources(casedesk, "pending"), sources(casedesk, "resumed")) == (
        ["command"],
        ["command"],
    )


def test_requester_reply_in_the_thread_resumes_a_pending_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = pending_case(slack)

    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, card_ts, "Here are the logs")

    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assert audit(casedesk)[-2:] == [("customer_replied", "thread"), ("resumed", "thread")]
    assert "Back in progress (requester replied)." in latest_in_thread(fake_slack, card_ts)
    assert "Case #1 (P3, in progress)" in card(fake_slack)["text"]


# Conversation in the thread


def test_agents_first_reply_in_the_thread_is_the_first_response_and_a_bystanders_is_not(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    card_ts = open_case(slack)
    clock.advance(timedelta(minutes=10))
    slack.thread_reply(OUTSIDER, SUPPORT_CHANNEL, card_ts, "Same problem here")
    assert case_row(casedesk).first_response_at is None

    clock.advance(timedelta(minutes=32))
    slack.thread_reply(AGENT, SUPPORT_CHANNEL, card_ts, "Looking into it")
    clock.advance(timedelta(minutes=5))
    slack.thread_reply(AGENT_2, SUPPORT_CHANNEL, card_ts, "Me too")

    assert case_row(casedesk).first_response_at == START + timedelta(minutes=42)
    assert "first response after 42 min" in all_text(card(fake_slack))
    assert audit(casedesk)[1:] == [
        ("commented", "thread"),
        ("responded", "thread"),
        ("responded", "thread"),
    ]
    assert event_of(casedesk, "responded").details.get("first_response") is None  # the 2nd
    assert thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts) == []  # nothing is echoed


def test_slack_retrying_an_event_records_the_message_once(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)
    message = thread_message(REQUESTER, card_ts, "1700000100.000100")

    first = slack.event(message, event_id="Ev0RETRIED")
    retry = slack.event(message, event_id="Ev0RETRIED")

    assert (first.status, retry.status) == (200, 200)
    assert sources(casedesk, "customer_replied") == ["thread"]


def test_bot_messages_and_edits_in_a_case_thread_are_not_recorded(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = pending_case(slack)
    before = audit(casedesk)
    own_post = thread_message(BOT_USER_ID, card_ts, "1700000100.000100", bot_id=BOT_ID)
    other_bot = thread_message(
        "U0OTHERBOT", card_ts, "1700000100.000200", bot_id="B0OTHER", subtype="bot_message"
    )
    reply = thread_message(REQUESTER, card_ts, "1700000100.000300")
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": SUPPORT_CHANNEL,
        "ts": "1700000100.000400",
        "message": {**reply, "text": "edited", "edited": {"user": REQUESTER}},
        "previous_message": reply,
    }

    statuses = [slack.event(event).status for event in (own_post, other_bot, edit)]

    assert statuses == [200, 200, 200]
    assert audit(casedesk) == before
    assert case_row(casedesk).status is CaseStatus.PENDING  # an edit is not a reply
