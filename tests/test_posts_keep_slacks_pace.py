"""A burst of posts into one channel keeps Slack's pace (about one a second): each post takes
its channel's turn, those whose turn is further off wait in the outbox, and the job delivers
them as their turns come. None is refused by Slack, none is lost, none is doubled."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import case_row, queue_posts
from sla_delivery_helpers import slack_client, texts

from bot.cases.changes import Actor
from bot.clock import SystemClock
from bot.runtime.casedesk import Casedesk
from bot.runtime.executor import TrackingExecutor
from bot.slack.gateway import SlackGateway
from bot.slack.outbox import DeliveryReport, OutboxDeliverer
from models import EventSource

HELP = "C0HELP"


def paced_deliverer(casedesk: Casedesk, fake: FakeSlack, **options: Any) -> OutboxDeliverer:
    options.setdefault("now_pool", casedesk.executor.deliver)
    return OutboxDeliverer(
        casedesk.db,
        SlackGateway(slack_client(fake)),
        SystemClock(),  # turns are real seconds: the outbox's due times must follow them
        cards=casedesk.outbox.cards,
        per_channel_interval=1.0,
        **options,
    )


def test_four_changes_at_once_post_at_slacks_pace_and_the_job_sends_what_cannot_wait(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    fake_slack.posts_per_second_per_channel = 1.0  # Slack's pace: beyond it, 429
    deliverer = paced_deliverer(casedesk, fake_slack)
    rows = queue_posts(casedesk, HELP, 4)

    with ThreadPoolExecutor(max_workers=4) as changes:  # four changes deliver their posts
        reports = list(changes.map(lambda row: deliverer.deliver([row]), rows))

    # Turns now and in one, two and three seconds: a change waits 2.5 s at most, so three go
    # out now and one waits in the outbox, due at its turn.
    assert sum(report.sent for report in reports) == 3
    assert sum(len(report.unsent) for report in reports) == 1
    assert len(texts(fake_slack, HELP)) == 3

    later = deliverer.deliver_due()  # the job: waits for each turn, within its run

    assert later == DeliveryReport(sent=1)
    assert sorted(texts(fake_slack, HELP)) == ["message 1", "message 2", "message 3", "message 4"]
    refused = [call for call in fake_slack.calls_to("chat.postMessage") if call.failed]
    assert refused == []


def test_other_channels_do_not_wait_for_a_busy_one(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    sleeps: list[float] = []
    deliverer = paced_deliverer(casedesk, fake_slack, sleep=sleeps.append)
    busy = queue_posts(casedesk, HELP) + queue_posts(casedesk, "C0OTHER")

    assert deliverer.deliver(busy).sent == 2
    assert sleeps == []


def test_the_person_who_acted_is_answered_without_waiting_for_the_channels_turn(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    fake_slack.posts_per_second_per_channel = 1.0  # Slack's pace: beyond it, 429
    sleeps: list[float] = []
    deliverer = paced_deliverer(casedesk, fake_slack, sleep=sleeps.append)
    first, second, third = queue_posts(casedesk, HELP, 3)

    now = deliverer.deliver_within([first], seconds=30)  # the channel's turn is now
    paced = deliverer.deliver_within([second, third], seconds=30)  # theirs: in 1 and 2 s

    assert now == DeliveryReport(sent=1)
    assert now is not None
    assert not now.pacing
    assert paced is not None
    assert paced.pacing
    assert paced == DeliveryReport()  # nothing went out yet, nothing failed
    assert texts(fake_slack, HELP) == ["message 1"]
    assert deliverer.wait_idle(timeout=30)  # they go out at their turns
    assert texts(fake_slack, HELP) == ["message 1", "message 2", "message 3"]
    assert sleeps == []  # no thread slept waiting for a turn
    assert not [call for call in fake_slack.calls_to("chat.postMessage") if call.failed]


def test_posts_waiting_for_their_turn_when_the_process_dies_are_sent_once_by_the_next(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    pool = TrackingExecutor(2, name="dying")
    dying = paced_deliverer(casedesk, fake_slack, now_pool=pool)
    first, second = queue_posts(casedesk, HELP, 2)
    dying.deliver_within([first], seconds=30)
    paced = dying.deliver_within([second], seconds=30)
    assert paced is not None
    assert paced.pacing
    pool.shutdown(wait=True)  # the process dies before the turn: what it held in memory goes

    after = paced_deliverer(casedesk, fake_slack).deliver_due()  # the next process's job

    assert after == DeliveryReport(sent=1)
    assert texts(fake_slack, HELP) == ["message 1", "message 2"]
    assert paced_deliverer(casedesk, fake_slack).deliver_due() == DeliveryReport()


def test_a_post_waiting_for_its_turn_here_and_sent_by_another_process_first_is_sent_once(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    here = paced_deliverer(casedesk, fake_slack)
    first, second = queue_posts(casedesk, HELP, 2)
    here.deliver_within([first], seconds=30)
    paced = here.deliver_within([second], seconds=30)  # its turn here comes in a second
    assert paced is not None
    assert paced.pacing

    elsewhere = paced_deliverer(casedesk, fake_slack).deliver_due()  # another process's job
    assert here.wait_idle(timeout=30)  # this process's turn came: the row was sent already

    assert elsewhere == DeliveryReport(sent=1)
    assert texts(fake_slack, HELP) == ["message 1", "message 2"]


def test_the_job_leaves_posts_held_for_a_turn_here_to_that_turn(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    sleeps: list[float] = []
    here = paced_deliverer(casedesk, fake_slack, sleep=sleeps.append)  # turns a second apart
    rows = queue_posts(casedesk, HELP, 4)
    answers = [here.deliver_within([row], seconds=30) for row in rows]
    assert all(answer is not None and answer.pacing for answer in answers[1:])

    job = here.deliver_due()  # the job in the same process, meanwhile

    assert job == DeliveryReport()  # it neither sent them nor took turns of its own for them
    assert sleeps == []
    assert here.wait_idle(timeout=30)
    assert texts(fake_slack, HELP) == [f"message {n}" for n in range(1, 5)]


def test_a_changes_post_to_a_quiet_channel_does_not_wait_for_a_busy_ones_turn(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    deliverer = paced_deliverer(casedesk, fake_slack)
    deliverer.deliver_within(queue_posts(casedesk, HELP), seconds=30)  # the help channel's turn
    busy, quiet = queue_posts(casedesk, HELP) + queue_posts(casedesk, "C0QUIET")

    answer = deliverer.deliver_within([busy, quiet], seconds=30)

    assert answer is not None
    assert answer.pacing
    assert answer.sent == 1
    assert texts(fake_slack, "C0QUIET") == ["message 1"]  # before the busy channel's turn
    assert texts(fake_slack, HELP) == ["message 1"]
    assert deliverer.wait_idle(timeout=30)
    assert texts(fake_slack, HELP) == ["message 1", "message 1"]


def test_a_card_waiting_for_its_turn_takes_its_thread_posts_with_it(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    deliverer = paced_deliverer(casedesk, fake_slack)
    assert deliverer.turns.take(SUPPORT_CHANNEL, 30) == 0  # another card went out just now
    with casedesk.db.unit_of_work() as session:
        change = casedesk.cases.open(
            session,
            actor=Actor(REQUESTER, EventSource.COMMAND),
            title="Printer on fire",
            description="Smoke from the toner",
        )
        card_rows = casedesk.flows.sync.queue(session, change)
    help_post = queue_posts(casedesk, HELP)

    answer = deliverer.deliver_within(card_rows + help_post, seconds=30)

    assert answer is not None
    assert answer.pacing
    assert texts(fake_slack, HELP) == ["message 1"]  # went out at once
    assert fake_slack.messages(SUPPORT_CHANNEL) == []
    assert deliverer.wait_idle(timeout=30)
    card_ts = case_row(casedesk).card_ts
    assert card_ts is not None
    thread = [reply["text"] for reply in fake_slack.thread(SUPPORT_CHANNEL, card_ts)]
    assert thread == ["Case #1: description"]  # under its card, once
    assert not [call for call in fake_slack.calls_to("chat.postMessage") if call.failed]


def test_a_failure_at_a_turn_is_logged_and_the_job_sends_what_was_left(
    casedesk: Casedesk,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = paced_deliverer(casedesk, fake_slack)
    first, second = queue_posts(casedesk, HELP, 2)
    here.deliver_within([first], seconds=30)

    def claim_fails_at_the_turn(*args: Any) -> Any:
        raise RuntimeError("the database went away")

    paced = here.deliver_within([second], seconds=30)  # its turn comes in a second
    assert paced is not None
    assert paced.pacing
    monkeypatch.setattr(here.claims, "claim", claim_fails_at_the_turn)
    assert here.wait_idle(timeout=30)
    monkeypatch.undo()

    assert "delivery failed; it stays queued" in caplog.text
    assert here.deliver_due() == DeliveryReport(sent=1)
    assert texts(fake_slack, HELP) == ["message 1", "message 2"]
