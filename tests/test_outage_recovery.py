"""When Slack fails: every card, card update and thread post that follows from a change is
queued in the outbox with the change, delivered at once when Slack answers, retried when it does
not, and never posted twice, also when Slack posted but its answer was lost.

Over the real HTTP path, against the Slack stand-in with faults injected."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from conftest import AGENT, BILLING_CHANNEL, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import case_row
from slack_driver import SlackDriver
from slack_outages_helpers import OUTAGE, assert_nothing_posted_twice, recover

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from bot.slack.outbox import DeliveryReport


def thread_of(fake: FakeSlack, casedesk: Casedesk, number: int) -> list[str]:
    card_ts = case_row(casedesk, number).card_ts
    assert card_ts is not None
    return [reply["text"] for reply in fake.thread(SUPPORT_CHANNEL, card_ts)]


# Outages


def test_cases_opened_and_changed_during_an_outage_each_end_with_one_up_to_date_card(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    for method in ("chat.postMessage", "chat.update", "conversations.history"):
        fake_slack.fail_next(method, status=500, times=OUTAGE)

    opened = [slack.command(REQUESTER, f"open Outage case {n}") for n in range(1, 6)]
    claimed = [slack.command(AGENT, f"claim {n}") for n in (1, 2, 3)]
    noted = [slack.command(AGENT, f"note {n} checked the logs") for n in (1, 2)]

    for reply in opened:
        assert "Opened case" in reply.reply_text
        assert "Slack is not answering right now (internal_error), so the card will appear" in (
            reply.reply_text
        )
    for reply in claimed + noted:
        assert "The case's card is not in Slack yet" in reply.reply_text, reply.reply_text
    assert fake_slack.messages(SUPPORT_CHANNEL) == []

    fake_slack.clear_faults()
    recover(casedesk, clock)

    cards = fake_slack.messages(SUPPORT_CHANNEL)
    assert sorted(card["ts"] for card in cards) == sorted(
        str(case_row(casedesk, n).card_ts) for n in range(1, 6)
    )
    by_ts = {card["ts"]: card for card in cards}
    for number in (1, 2, 3):
        assert "in progress" in by_ts[str(case_row(casedesk, number).card_ts)]["text"]
    for number in (4, 5):
        assert "in progress" not in by_ts[str(case_row(casedesk, number).card_ts)]["text"]
    assert [len(thread_of(fake_slack, casedesk, n)) for n in range(1, 6)] == [2, 2, 1, 0, 0]
    assert_nothing_posted_twice(fake_slack)
    assert casedesk.outbox.deliver_due() == DeliveryReport()  # nothing left behind


def test_a_card_update_failing_for_a_while_ends_with_the_latest_state_on_the_card(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    fake_slack.fail_next("chat.update", status=503, times=OUTAGE)
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "pending 1 the model number")

    fake_slack.clear_faults()
    recover(casedesk, clock)

    [card] = fake_slack.messages(SUPPORT_CHANNEL)
    assert "pending" in card["text"].lower()
    updates = [call for call in fake_slack.calls_to("chat.update") if not call.failed]
    assert len(updates) == 1  # the queued updates were folded into one, the latest
    assert len(thread_of(fake_slack, casedesk, 1)) == 2


def test_a_change_once_slack_is_back_updates_the_card_at_once_not_after_the_backoff(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    fake_slack.fail_next("chat.update", status=503, times=5)
    slack.command(AGENT, "claim 1")
    for _ in range(5):  # the job keeps trying while Slack is down; the backoff grows
        clock.advance(timedelta(minutes=16))
        casedesk.outbox.deliver_due()
    fake_slack.clear_faults()

    reply = slack.command(AGENT, "pending 1 the model number")

    assert "Slack" not in reply.reply_text  # nothing is late
    [card] = fake_slack.messages(SUPPORT_CHANNEL)
    assert "pending" in card["text"].lower()


@pytest.mark.parametrize("posted", [False, True], ids=["not-posted", "posted-answer-lost"])
def test_a_card_in_doubt_when_its_case_moves_team_ends_up_only_in_the_new_team_channel(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    casedesk: Casedesk,
    clock: ManualClock,
    posted: bool,
) -> None:
    if posted:
        fake_slack.lose_next_answer("chat.postMessage", status=500)
    else:
        fake_slack.fail_next("chat.postMessage", status=500)
    slack.command(REQUESTER, "open Refund missing")
    slack.command(AGENT, "escalate 1 team:billing they own refunds")
    recover(casedesk, clock)

    case = case_row(casedesk)
    assert (case.team_key, case.channel_id) == ("billing", BILLING_CHANNEL)
    assert fake_slack.messages(SUPPORT_CHANNEL) == []  # a card found there was taken back
    [card] = fake_slack.messages(BILLING_CHANNEL)
    assert card["ts"] == case.card_ts
    assert_nothing_posted_twice(fake_slack, BILLING_CHANNEL)


# Answers lost after Slack did the work


def test_a_card_whose_answer_was_lost_is_found_in_the_channel_and_not_posted_again(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    fake_slack.lose_next_answer("chat.postMessage", status=500)

    opened = slack.command(REQUESTER, "open Printer on fire")
    claimed = slack.command(AGENT, "claim 1")  # its thread post waits for the card
    recover(casedesk, clock)

    assert "Slack is not answering right now" in opened.reply_text
    assert "You claimed case #1." in claimed.reply_text
    [card] = fake_slack.messages(SUPPORT_CHANNEL)
    assert case_row(casedesk).card_ts == card["ts"]
    assert "in progress" in card["text"]
    assert len(thread_of(fake_slack, casedesk, 1)) == 1
    assert_nothing_posted_twice(fake_slack)


def test_a_thread_post_that_times_out_after_posting_is_answered_at_once_and_not_repeated(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    fake_slack.lose_next_answer("chat.postMessage", hang=5)  # the app's client waits 3 s

    started = time.monotonic()
    slack.requests.slash_command(
        user=AGENT,
        channel=SUPPORT_CHANNEL,
        text="claim 1",
        response_url=fake_slack.response_url("claim"),
        trigger_id=slack.requests.next_id("trigger"),
    )
    [reply] = fake_slack.wait_for(lambda fake: fake.responses_for("claim"), timeout=10)
    answered_after = time.monotonic() - started
    assert slack.executor.wait_idle(timeout=30)
    fake_slack.release_delays()
    recover(casedesk, clock)

    assert "You claimed case #1." in reply["text"]
    assert "Slack is slow to answer" in reply["text"]
    assert answered_after < 3  # told without waiting out Slack's answer
    assert len(thread_of(fake_slack, casedesk, 1)) == 1
    assert_nothing_posted_twice(fake_slack)
