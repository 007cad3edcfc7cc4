"""Messages that stay true: SLA alerts and digests follow their cases, cards state due times
absolutely and offer the buttons that fit the case's state, and thread posts carry none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import AGENT, AGENT_2, MANAGER, OUTSIDER, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import all_text, case_row, open_case
from sla_delivery_helpers import (
    ALERTS_CHANNEL,
    accessories,
    alert_storm,
    breached_alert,
    checked_after,
    controls,
    digesting_desk_fixture,  # noqa: F401  (the desk_config fixture)
    message_at,
)
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CaseStatus

# Alerts follow their cases


def test_claiming_from_a_breach_alert_updates_the_alert_in_place(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    alert = breached_alert(slack, fake_slack, casedesk, clock)
    assert controls(alert) == [ActionId.CLAIM, ActionId.ESCALATE, ActionId.OPEN_LINK]
    assert "open · _unassigned_" in all_text(alert)

    slack.click(AGENT, ActionId.CLAIM, "1", channel=ALERTS_CHANNEL, message_ts=alert["ts"])

    updated = message_at(fake_slack, ALERTS_CHANNEL, alert["ts"])
    assert len(fake_slack.messages(ALERTS_CHANNEL)) == 1  # the same alert, not a new one
    assert f"in progress · <@{AGENT}>" in all_text(updated)
    assert controls(updated) == [ActionId.ESCALATE, ActionId.OPEN_LINK]
    assert updated["blocks"][-1]["elements"][-1]["url"].startswith("https://")


def test_closing_a_case_takes_the_buttons_off_its_alerts(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    card_ts = checked_after(slack, casedesk, clock, 46)  # the warning, in the case thread
    warning = fake_slack.thread(SUPPORT_CHANNEL, card_ts)[-1]
    assert controls(warning) == [ActionId.ESCALATE]

    slack.command(AGENT, "close 1 Fixed on the phone")

    [updated] = [
        post for post in fake_slack.thread(SUPPORT_CHANNEL, card_ts) if post["ts"] == warning["ts"]
    ]
    assert controls(updated) == []
    assert "· closed ·" in all_text(updated)


def test_a_digest_lists_each_case_with_its_claim_button_and_follows_them(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    assert "4 breach(es), 2 digest(s)" in alert_storm(slack, casedesk, clock, priority="p2")
    digest = fake_slack.messages(ALERTS_CHANNEL)[-1]
    assert digest["text"] == "SLA alerts: 4 breached, 0 due soon"
    assert f"<@{MANAGER}>" in all_text(digest)  # P2 breaches: the managers are told
    assert accessories(digest).count(ActionId.CLAIM) == 4

    slack.click(AGENT, ActionId.CLAIM, "2", channel=ALERTS_CHANNEL, message_ts=digest["ts"])

    updated = message_at(fake_slack, ALERTS_CHANNEL, digest["ts"])
    assert accessories(updated).count(ActionId.CLAIM) == 3
    assert f"in progress · <@{AGENT}>" in all_text(updated)


def test_a_low_priority_digest_does_not_ping_the_managers(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    alert_storm(slack, casedesk, clock, priority="p4", after=timedelta(days=1))
    digests = [
        m for m in fake_slack.messages(ALERTS_CHANNEL) if m["text"].startswith("SLA alerts:")
    ]
    assert digests
    assert all(f"<@{MANAGER}>" not in all_text(digest) for digest in digests)


# Cards


def test_the_card_states_when_it_opened_without_a_relative_time_that_freezes(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    open_case(slack)
    clock.advance(timedelta(days=1))
    slack.command(AGENT, "claim 1")

    card_text = all_text(fake_slack.messages(SUPPORT_CHANNEL)[0])
    assert "Opened <!date^" in card_text
    assert "just now" not in card_text
    assert " ago" not in card_text
    assert "of business time" not in card_text


def test_the_card_shows_a_warned_target_as_due_soon(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    checked_after(slack, casedesk, clock, 46)

    assert ":warning: *first response due soon:*" in all_text(
        fake_slack.messages(SUPPORT_CHANNEL)[0]
    )


def test_every_open_card_has_an_assign_picker_and_a_pending_one_has_resume(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_case(slack)
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "pending 1 the logs")

    card = fake_slack.messages(SUPPORT_CHANNEL)[0]
    assert controls(card) == [
        ActionId.RESUME,
        ActionId.ASSIGN,
        ActionId.ESCALATE,
        ActionId.CLOSE,
    ]
    [picker] = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]][1:2]
    assert (picker["type"], picker["initial_user"]) == ("users_select", AGENT)

    result = slack.click(AGENT, ActionId.RESUME, "1")

    assert "Case #1 is back in progress." in result.reply_text
    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assert ActionId.RESUME not in controls(fake_slack.messages(SUPPORT_CHANNEL)[0])


@pytest.mark.parametrize(
    ("picked", "told", "assignee"),
    [
        pytest.param(AGENT_2, f"Case #1 is now assigned to <@{AGENT_2}>.", AGENT_2, id="agent"),
        pytest.param(
            OUTSIDER,
            f"<@{OUTSIDER}> is not an agent of Customer Support",  # refused, saying why
            None,
            id="someone-outside-the-team",
        ),
    ],
)
def test_a_manager_assigns_a_case_by_picking_an_agent_on_the_card(
    picked: str, told: str, assignee: str | None, slack: SlackDriver, casedesk: Casedesk
) -> None:
    open_case(slack)

    result = slack.pick_user(MANAGER, ActionId.ASSIGN, "case_card_1", picked)

    assert told in result.reply_text
    assert case_row(casedesk).assignee_id == assignee


def test_a_pick_from_a_block_that_names_no_case_is_refused(slack: SlackDriver) -> None:
    open_case(slack)

    result = slack.pick_user(MANAGER, ActionId.ASSIGN, "elsewhere", AGENT)

    assert "That button does not point at a case any more." in result.reply_text


def test_thread_posts_tell_what_happened_and_leave_the_buttons_on_the_card(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    card_ts = open_case(slack, "Printer on fire")
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "note 1 Called the vendor")

    posts = fake_slack.thread(SUPPORT_CHANNEL, card_ts)
    assert posts
    assert all(controls(post) == [] for post in posts)


# App Home


def home_sections(slack: SlackDriver, fake: FakeSlack, user: str) -> dict[str, list[str]]:
    """Each `*title* (n)` list of the user's App Home, with the text of its case lines."""
    slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})
    lists: dict[str, list[str]] = {}
    current: list[str] | None = None
    for block in fake.home_views[user]["blocks"]:
        text = str((block.get("text") or {}).get("text", ""))
        if block["type"] == "section" and text.startswith("*") and "* (" in text:
            current = lists.setdefault(text.split("*")[1], [])
        elif block["type"] == "section" and current is not None:
            current.append(text)
        elif block["type"] == "divider":
            current = None
    return lists


def test_app_home_keeps_breached_cases_apart_from_those_breaching_soon_with_due_times(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    open_case(slack, "Printer on fire")
    clock.advance(timedelta(minutes=30))
    open_case(slack, "VPN down")
    clock.advance(timedelta(minutes=35))  # #1 is 5 min past due, #2 due in 25 min

    lists = home_sections(slack, fake_slack, AGENT)

    [breached] = lists["SLA breached"]
    [soon] = lists["Breaching soon"]
    assert "*#1*" in breached
    assert "was due <!date^" in breached
    assert "*#2*" in soon
    assert " due <!date^" in soon
    assert "was due" not in soon


def test_a_requesters_app_home_shows_their_requests_and_no_queue(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    open_case(slack, "Printer on fire")
    slack.command(REQUESTER, "open VPN down")
    slack.command(AGENT, "close 1 Replaced the toner")

    lists = home_sections(slack, fake_slack, REQUESTER)

    assert list(lists) == ["Your requests"]
    assert ["*#2*" in line for line in lists["Your requests"]] == [True, False]


# Times come from Slack


def test_a_reply_delivered_late_is_timed_by_its_slack_timestamp(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    card_ts = open_case(slack)
    clock.advance(timedelta(minutes=20))
    written = clock.now()
    clock.advance(timedelta(minutes=4))  # Slack redelivers the event four minutes later
    event = {
        "type": "message",
        "channel": SUPPORT_CHANNEL,
        "user": AGENT,
        "text": "On it",
        "ts": f"{written.timestamp():.6f}",
        "thread_ts": card_ts,
    }

    slack.event(event)

    case = case_row(casedesk)
    assert case.first_response_at == written
    assert case.first_response_seconds == 20 * 60


def test_a_timestamp_from_before_the_case_or_after_now_is_kept_within_them(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    card_ts = open_case(slack)
    opened = clock.now()
    clock.advance(timedelta(minutes=5))
    early = {"type": "message", "channel": SUPPORT_CHANNEL, "user": AGENT, "text": "Hi"}
    early |= {"ts": f"{(opened - timedelta(days=1)).timestamp():.6f}", "thread_ts": card_ts}

    slack.event(early)

    assert case_row(casedesk).first_response_at == opened


def test_an_alert_update_that_slack_refuses_is_retried_and_no_alert_is_posted_again(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    alert = breached_alert(slack, fake_slack, casedesk, clock)
    fake_slack.fail_next("chat.update", status=500, times=4)  # the card's and the alert's

    slack.click(AGENT, ActionId.CLAIM, "1", channel=ALERTS_CHANNEL, message_ts=alert["ts"])
    stale = message_at(fake_slack, ALERTS_CHANNEL, alert["ts"])
    assert controls(stale)[0] == ActionId.CLAIM
    for _ in range(6):  # the outbox job, over the next minutes
        clock.advance(timedelta(minutes=2))
        casedesk.outbox.deliver_due()

    updated = message_at(fake_slack, ALERTS_CHANNEL, alert["ts"])
    assert controls(updated) == [ActionId.ESCALATE, ActionId.OPEN_LINK]
    assert len(fake_slack.messages(ALERTS_CHANNEL)) == 1
    assert f"in progress · <@{AGENT}>" in all_text(updated)
