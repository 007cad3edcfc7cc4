"""The case rules (`CaseService`), messages in the case thread: a requester reply (which resumes
a pending case), the first agent reply as the first response, everyone else's comments, Slack's
retries recorded once, and threads that are no case ignored. Every test runs on SQLite and on
PostgreSQL."""

from __future__ import annotations

import pytest
from case_rules_helpers import (
    Desk,
    Row,
    desk_fixture,  # noqa: F401  (the desk fixture)
)
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_AGENT,
    BILLING_CHANNEL,
    MANAGER,
    OUTSIDER,
    REQUESTER,
    SUPPORT_CHANNEL,
)
from helpers import HOUR, MINUTE

# Messages in the case thread


def test_a_requester_reply_is_recorded_as_a_customer_reply(desk: Desk) -> None:
    desk.open()
    desk.attach_card()
    at = desk.clock.advance(MINUTE)
    change = desk.message(REQUESTER)

    assert change is not None
    assert change.card_changed is False
    assert desk.trail()[-1] == Row(at, REQUESTER, "customer_replied", "thread")
    assert desk.events()[-1].details == {"message_ts": f"{at.timestamp():.6f}"}


def test_a_requester_reply_resumes_a_pending_case(desk: Desk) -> None:
    desk.open()
    desk.attach_card()
    desk.claim()
    desk.pending()
    at = desk.clock.advance(HOUR)
    change = desk.message(REQUESTER)

    assert change is not None
    assert change.card_changed is True
    assert desk.case().status == "in_progress"
    assert desk.trail()[-2:] == [
        Row(at, REQUESTER, "customer_replied", "thread"),
        Row(at, REQUESTER, "resumed", "thread", status_before="pending",
            status_after="in_progress"),
    ]  # fmt: skip
    assert desk.events()[-1].details["cause"] == "requester replied"


@pytest.mark.parametrize("agent", [AGENT, AGENT_2, MANAGER])
def test_the_first_agent_reply_sets_first_response_only_once(desk: Desk, agent: str) -> None:
    desk.open()
    desk.attach_card()
    first = desk.clock.advance(20 * MINUTE)
    first_change = desk.message(agent)
    later = desk.clock.advance(HOUR)
    later_change = desk.message(AGENT)

    assert desk.case().first_response_at == first
    assert desk.trail()[1:] == [
        Row(first, agent, "responded", "thread"),
        Row(later, AGENT, "responded", "thread"),
    ]
    assert [event.details.get("first_response") for event in desk.events()[1:]] == [True, None]
    assert first_change is not None
    assert first_change.card_changed is True
    assert later_change is not None
    assert later_change.card_changed is False


@pytest.mark.parametrize("user", [OUTSIDER, BILLING_AGENT])
def test_a_message_by_anyone_else_is_recorded_as_a_comment(desk: Desk, user: str) -> None:
    desk.open()
    desk.attach_card()
    desk.message(user)

    assert desk.actions() == ["opened", "commented"]
    assert desk.case().first_response_at is None


def test_a_slack_retry_of_the_same_event_is_recorded_once(desk: Desk) -> None:
    desk.open()
    desk.attach_card()

    first = desk.message(AGENT, event_id="Ev001")
    retry = desk.message(AGENT, event_id="Ev001")
    other = desk.message(AGENT, event_id="Ev002")

    assert (first is not None, retry, other is not None) == (True, None, True)
    assert desk.actions() == ["opened", "responded", "responded"]


def test_a_message_in_a_thread_that_is_no_case_is_ignored(desk: Desk) -> None:
    desk.open()
    desk.attach_card()

    assert desk.message(AGENT, thread_ts="1700000999.000100") is None
    assert desk.message(AGENT, channel=BILLING_CHANNEL) is None
    assert desk.actions() == ["opened"]


def test_replies_in_the_old_thread_still_reach_a_case_that_moved_team(desk: Desk) -> None:
    desk.open()
    desk.attach_card(channel=SUPPORT_CHANNEL)
    desk.escalate(to="billing")
    desk.message(BILLING_AGENT, channel=SUPPORT_CHANNEL)

    assert desk.actions()[-1] == "responded"
