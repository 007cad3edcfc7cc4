"""The outbox under pressure: a rate limit holds only its channel, a slow attempt cannot
overwrite what a newer deliverer recorded, and settled rows are pruned after a month.

Over the real HTTP path, against the Slack stand-in with faults injected."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from fake_slack import FakeSlack
from helpers import another_process, queue_posts, run_job
from slack_outages_helpers import OUTAGE
from sqlalchemy import select

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from bot.slack.outbox import DeliveryReport
from models import OutboxMessage

# Rate limits and slow deliverers


def test_a_rate_limit_holds_its_channel_without_the_job_sleeping_and_others_go_on(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    queue_posts(casedesk, "C0ALERTS", 3)
    queue_posts(casedesk, "C0OTHER")
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
    [row_id] = queue_posts(casedesk, "C0ALERTS")
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


def test_settled_rows_are_pruned_after_a_month_and_waiting_ones_kept(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    queue_posts(casedesk, "C0ALERTS", 2)
    fake_slack.unknown_channels.add("C0GONE")
    queue_posts(casedesk, "C0GONE")  # fails for good
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=2, failed=1)
    clock.advance(timedelta(days=29))
    [waiting] = queue_posts(casedesk, "C0ALERTS")
    fake_slack.fail_next("chat.postMessage", status=500, times=OUTAGE)
    casedesk.outbox.deliver_due()  # still to retry

    clock.advance(timedelta(days=2))
    assert run_job(casedesk, "deliver-outbox").endswith("; 3 old row(s) pruned")

    with casedesk.db.read_only() as session:
        assert list(session.scalars(select(OutboxMessage.id))) == [waiting]
