"""When Slack fails: every card, card update and thread post that follows from a change is
queued in the outbox with the change, delivered at once when Slack answers, retried when it
does not, and never posted twice, also when Slack posted but its answer was lost, when a
deliverer is slow, or when the bot is killed mid-burst.

Over the real HTTP path, against the Slack stand-in with faults injected."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import (
    AGENT,
    BILLING_CHANNEL,
    BOT_TOKEN,
    DESK_YAML,
    REQUESTER,
    SIGNING_SECRET,
    SUPPORT_CHANNEL,
)
from fake_slack import FakeSlack
from helpers import REPO, Json, another_process, case_row, command_form, run_job
from slack_driver import SlackDriver
from sqlalchemy import select

from bot.clock import ManualClock
from bot.inbox import WORK_LEASE
from bot.runtime.assembly import Casedesk, build_app, build_casedesk
from bot.sandbox.signed import SignedRequests
from bot.slack.blocks import SlackMessage
from bot.slack.outbox import DeliveryReport, enqueue
from models import Case, OutboxMessage

OUTAGE = 10_000  # more failures than any test makes calls


def recover(casedesk: Casedesk, clock: ManualClock) -> None:
    """Slack is back: time passes and the deliver-outbox job runs as it would."""
    for _ in range(8):
        clock.advance(timedelta(minutes=5))
        casedesk.outbox.deliver_due()


def every_message(fake: FakeSlack, channel: str) -> list[Json]:
    """The channel's messages and all their thread replies."""
    top = fake.messages(channel)
    return top + [reply for message in top for reply in fake.thread(channel, message["ts"])]


def outbox_ids(messages: list[Json]) -> list[int]:
    return [
        int(message["metadata"]["event_payload"]["outbox_id"])
        for message in messages
        if message.get("metadata")
    ]


def assert_nothing_posted_twice(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> None:
    ids = outbox_ids(every_message(fake, channel))
    assert len(ids) == len(set(ids)), f"posted twice: {sorted(ids)}"


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


# Rate limits and slow deliverers


def queue_messages(casedesk: Casedesk, *channels: str) -> list[int]:
    with casedesk.db.unit_of_work() as session:
        rows = [
            enqueue(
                session,
                kind="test",
                channel_id=channel,
                content=SlackMessage(text=f"message {n}"),
                now=casedesk.clock.now(),
            )
            for n, channel in enumerate(channels, 1)
        ]
        session.flush()
        return [row.id for row in rows]


def test_a_rate_limit_holds_its_channel_without_the_job_sleeping_and_others_go_on(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    queue_messages(casedesk, "C0ALERTS", "C0ALERTS", "C0ALERTS", "C0OTHER")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=120)

    started = time.monotonic()
    report = casedesk.outbox.deliver_due()
    took = time.monotonic() - started

    assert took < 10  # a Retry-After of two minutes is recorded, not slept
    assert report == DeliveryReport(sent=1, retried=1)
    tried = [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")]
    assert tried == ["C0ALERTS", "C0OTHER"]  # the other two waited without a try
    clock.advance(timedelta(seconds=119))
    assert casedesk.outbox.deliver_due() == DeliveryReport()
    clock.advance(timedelta(seconds=2))
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=3)
    assert [m["text"] for m in fake_slack.messages("C0ALERTS")] == [
        "message 1",
        "message 2",
        "message 3",
    ]


def test_a_slow_attempt_cannot_overwrite_what_a_newer_deliverer_recorded(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    [row_id] = queue_messages(casedesk, "C0ALERTS")
    fake_slack.fail_next("chat.postMessage", status=500)
    fake_slack.delay_next("chat.postMessage", 2)  # the first attempt hangs, then fails
    slow = threading.Thread(target=casedesk.outbox.deliver_due)
    slow.start()
    fake_slack.wait_for(lambda fake: fake.calls_to("chat.postMessage"))

    clock.advance(timedelta(minutes=3))  # its lease is over: another replica takes the row
    with another_process(casedesk) as other:
        assert other.outbox.deliver_due() == DeliveryReport(sent=1)
    slow.join(timeout=30)

    with casedesk.db.read_only() as session:
        row = session.get(OutboxMessage, row_id)
    assert row is not None
    assert (row.state, row.last_error) == ("sent", None)
    assert [m["text"] for m in fake_slack.messages("C0ALERTS")] == ["message 1"]


# The bot killed mid-burst


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def bot_process(tmp_path: Path, fake: FakeSlack, database_url: str) -> Iterator[str]:
    config = tmp_path / "app.yaml"
    config.write_text(DESK_YAML)
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "SUPPORT_CONFIG": str(config),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "RUN_SCHEDULER": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not answers(url):
            assert process.poll() is None, "the bot did not start"
            assert time.monotonic() < deadline, "the bot did not answer /healthz"
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.parametrize("burst", [12])
def test_after_a_kill_mid_burst_every_acknowledged_case_gets_exactly_one_card(
    tmp_path: Path, fake_slack: FakeSlack, casedesk: Casedesk, burst: int
) -> None:
    # Half the commands wait on Slack before their change (looking up the agents' user group):
    # the bot dies having acknowledged them and done nothing. Slack posts the first cards of
    # the others but never answers: the bot dies between the post and recording it.
    fake_slack.delay_next("usergroups.users.list", 60, times=burst // 2)
    fake_slack.lose_next_answer("chat.postMessage", hang=60, times=3)
    with bot_process(tmp_path, fake_slack, casedesk.db.url) as url:
        requests = SignedRequests(url, SIGNING_SECRET)

        def open_one(n: int) -> int:
            form = command_form(
                f"open Burst case {n}",
                response_url=fake_slack.response_url(f"burst-{n}"),
                trigger_id=f"burst-trigger-{n}-{time.time_ns()}",
            )
            return requests.post(form).status

        with ThreadPoolExecutor(max_workers=burst) as pool:
            statuses = list(pool.map(open_one, range(1, burst + 1)))
        fake_slack.wait_for(lambda fake: len(fake.messages(SUPPORT_CHANNEL)) >= 3, timeout=30)
    # The process is gone (SIGKILL); what it had acknowledged must all come out, once.
    fake_slack.release_delays()
    assert statuses == [200] * burst  # every command was acknowledged before the kill
    with casedesk.db.read_only() as session:
        unfinished = burst - len(session.scalars(select(Case.id)).all())
    assert unfinished > 0

    # The next process carries out what the dead one acknowledged but did not finish, and
    # delivers what it had queued.
    later = ManualClock(datetime.now(UTC) + WORK_LEASE + timedelta(minutes=1))
    restarted = build_casedesk(casedesk.settings, desk=casedesk.desk, db=casedesk.db, clock=later)
    try:
        build_app(restarted)
        replayed = run_job(restarted, "replay-requests")
        assert restarted.executor.wait_idle(timeout=60)
        recover(restarted, later)
    finally:
        restarted.executor.shutdown(wait=True)

    assert replayed.startswith(f"{unfinished} request(s) carried out again")
    with casedesk.db.read_only() as session:
        cases = session.scalars(select(Case)).all()
    assert sorted(case.title for case in cases) == sorted(  # each once
        f"Burst case {n}" for n in range(1, burst + 1)
    )
    cards = fake_slack.messages(SUPPORT_CHANNEL)
    assert sorted(card["ts"] for card in cards) == sorted(str(case.card_ts) for case in cases)
    assert_nothing_posted_twice(fake_slack)


def test_settled_rows_are_pruned_after_a_month_and_waiting_ones_kept(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    queue_messages(casedesk, "C0ALERTS", "C0ALERTS")
    fake_slack.unknown_channels.add("C0GONE")
    queue_messages(casedesk, "C0GONE")  # fails for good
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=2, failed=1)
    clock.advance(timedelta(days=29))
    [waiting] = queue_messages(casedesk, "C0ALERTS")
    fake_slack.fail_next("chat.postMessage", status=500, times=OUTAGE)
    casedesk.outbox.deliver_due()  # still to retry

    clock.advance(timedelta(days=2))
    assert run_job(casedesk, "deliver-outbox").endswith("; 3 old row(s) pruned")

    with casedesk.db.read_only() as session:
        assert list(session.scalars(select(OutboxMessage.id))) == [waiting]
