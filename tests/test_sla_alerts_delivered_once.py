"""SLA alerts delivered once: through rate limits, server errors, permanent errors and crashes
mid-post (a message in doubt is looked for in Slack first), and paced per channel.

Cases are opened at START, Monday 10:00 in Berlin (`sla_delivery_helpers` has the policy)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import START, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from sla_delivery_helpers import (
    ALERTS_CHANNEL,
    FIRST_RESPONSE_BREACH,
    FIRST_RESPONSE_WARNING,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    open_case,
    slack_client,
    texts,
    thread_alerts,
)
from sqlalchemy import select

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackGateway
from bot.slack.outbox import METADATA_EVENT_TYPE, DeliveryReport, OutboxDeliverer, enqueue
from models import OutboxMessage

OTHER_CHANNEL = "C0BILLING"


NOTHING_DELIVERED = DeliveryReport()


# Helpers: acting on cases, running the job, reading what happened


def decide_alerts(casedesk: Casedesk, clock: ManualClock, *, after_minutes: int) -> str:
    """Case #1 opened, and `after_minutes` later an sla-check pass that only decides its alerts
    (the outbox delivers nothing yet): the pass's report."""
    open_case(casedesk)
    clock.advance(timedelta(minutes=after_minutes))
    return str(casedesk.sla_check.run())


def outbox_rows(casedesk: Casedesk) -> list[OutboxMessage]:
    """The alerts in the outbox (cards and their updates are queued there too)."""
    with casedesk.db.read_only() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind.like("sla_%"))
                .order_by(OutboxMessage.id)
            )
        )


def deliver_card_updates(casedesk: Casedesk) -> None:
    """Send the card updates a breach queued (the breach marker), so that what follows is
    about the alerts alone."""
    with casedesk.db.read_only() as session:
        ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "card_update"))
        assert casedesk.outbox.deliver(list(ids)).sent == 1


def breach_alerts_queued(casedesk: Casedesk, clock: ManualClock) -> list[OutboxMessage]:
    """Case #1 past its first response due time: its breach alerts decided and waiting in the
    outbox (the card's breach marker already sent)."""
    decide_alerts(casedesk, clock, after_minutes=61)
    deliver_card_updates(casedesk)
    return outbox_rows(casedesk)


def posts_to(fake: FakeSlack, channel: str) -> int:
    return sum(1 for call in fake.calls_to("chat.postMessage") if call.params["channel"] == channel)


def deliverer(casedesk: Casedesk, fake: FakeSlack, **options: Any) -> OutboxDeliverer:
    options.setdefault("per_channel_interval", 0)
    return OutboxDeliverer(
        casedesk.db,
        SlackGateway(slack_client(fake)),
        casedesk.clock,
        cards=casedesk.outbox.cards,
        now_pool=casedesk.executor.deliver,
        **options,
    )


def crash_while_sending(casedesk: Casedesk, row_id: int) -> None:
    """Leave a row as a deliverer that died mid-post leaves it."""
    with casedesk.db.unit_of_work() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.state, row.sending_since, row.attempts = "sending", casedesk.clock.now(), 1


def crash_after_posting(casedesk: Casedesk, row: OutboxMessage) -> str:
    """The post reached Slack, tagged with the row's id, then the deliverer died before it could
    record it. Returns the ts Slack gave the message."""
    crash_while_sending(casedesk, row.id)
    return casedesk.slack.post(
        row.channel_id,
        SlackMessage(text=row.payload["text"], blocks=row.payload["blocks"]),
        thread_ts=row.thread_ts,
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"outbox_id": row.id}},
    )


# Delivered once: rate limits, server errors, permanent errors, crashes mid-post


def test_a_rate_limited_alert_waits_for_retry_after_and_is_then_delivered_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    assert decide_alerts(casedesk, clock, after_minutes=46) == "1 warning(s), 0 breach(es)"
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=30)

    # The card shows the warning at once; the warning itself waits.
    assert deliverer(casedesk, fake_slack).deliver_due() == DeliveryReport(sent=1, retried=1)
    [row] = outbox_rows(casedesk)
    assert (row.state, row.next_attempt_at) == ("pending", clock.now() + timedelta(seconds=30))
    assert row.last_error == "chat.postMessage: ratelimited"
    clock.advance(timedelta(seconds=29))
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED
    clock.advance(timedelta(seconds=2))
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=1)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_WARNING]
    assert posts_to(fake_slack, SUPPORT_CHANNEL) == 1 + 2  # the card, then two tries
    [row] = outbox_rows(casedesk)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_server_error_is_retried_with_growing_backoff_and_delivered_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    decide_alerts(casedesk, clock, after_minutes=46)
    fake_slack.fail_next("chat.postMessage", status=500, times=3)
    outbox = deliverer(casedesk, fake_slack)

    waits: list[timedelta] = []
    for attempt in range(3):
        card_updated = 1 if attempt == 0 else 0  # the card shows the warning at once
        assert outbox.deliver_due() == DeliveryReport(sent=card_updated, retried=1)
        [row] = outbox_rows(casedesk)
        waits.append(row.next_attempt_at - clock.now())
        clock.advance(waits[-1] - timedelta(seconds=1))
        assert outbox.deliver_due() == NOTHING_DELIVERED  # not before the backoff is over
        clock.advance(timedelta(seconds=1))
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=1)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert waits == [timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_WARNING]
    [row] = outbox_rows(casedesk)
    assert (row.state, row.attempts) == ("sent", 4)


def test_an_alert_slack_fails_for_a_day_is_tried_every_fifteen_minutes_and_then_delivered(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    decide_alerts(casedesk, clock, after_minutes=46)
    tries = 24 * 4 + 8  # a day at fifteen minutes, and the climb to it
    fake_slack.fail_next("chat.postMessage", status=500, times=tries)
    outbox = deliverer(casedesk, fake_slack)

    waits: set[timedelta] = set()
    for _ in range(tries):
        assert outbox.deliver_due().retried == 1
        [row] = outbox_rows(casedesk)
        waits.add(row.next_attempt_at - clock.now())
        clock.advance(row.next_attempt_at - clock.now())
    assert outbox.deliver_due() == DeliveryReport(sent=1)

    assert max(waits) == timedelta(minutes=15)
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_WARNING]
    [row] = outbox_rows(casedesk)
    assert (row.state, row.attempts) == ("sent", tries + 1)


def test_a_permanent_error_marks_the_message_failed_and_it_is_not_retried(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    fake_slack.unknown_channels.add(ALERTS_CHANNEL)
    assert decide_alerts(casedesk, clock, after_minutes=61) == "0 warning(s), 1 breach(es)"

    # The thread copy and the card's breach marker are sent.
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=2, failed=1)
    clock.advance(timedelta(days=1))
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert posts_to(fake_slack, ALERTS_CHANNEL) == 1
    failed = [row for row in outbox_rows(casedesk) if row.channel_id == ALERTS_CHANNEL]
    assert [(row.state, row.last_error) for row in failed] == [
        ("failed", "chat.postMessage: channel_not_found")
    ]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]


def test_an_in_doubt_message_already_in_slack_is_recognised_and_not_posted_again(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    rows = breach_alerts_queued(casedesk, clock)
    assert [(row.channel_id, row.thread_ts is not None) for row in rows] == [
        (ALERTS_CHANNEL, False),
        (SUPPORT_CHANNEL, True),
    ]
    posted_ts = {row.id: crash_after_posting(casedesk, row) for row in rows}
    posts_before = len(fake_slack.calls_to("chat.postMessage"))

    clock.advance(timedelta(minutes=1))
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED  # maybe still being sent
    clock.advance(timedelta(minutes=2))
    assert casedesk.outbox.deliver_due() == DeliveryReport(recovered=2)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert len(fake_slack.calls_to("chat.postMessage")) == posts_before
    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]
    assert {row.id: (row.state, row.sent_ts) for row in outbox_rows(casedesk)} == {
        row_id: ("sent", ts) for row_id, ts in posted_ts.items()
    }


def test_an_in_doubt_message_is_not_posted_again_while_slack_history_cannot_be_read(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    for row in breach_alerts_queued(casedesk, clock):
        crash_after_posting(casedesk, row)
    fake_slack.fail_next("conversations.history", status=500)
    fake_slack.fail_next("conversations.replies", status=500)
    outbox = deliverer(casedesk, fake_slack)

    clock.advance(timedelta(minutes=3))
    assert outbox.deliver_due().sent == 0  # cannot tell whether they went out: do not guess
    clock.advance(timedelta(minutes=20))
    outbox.deliver_due()
    outbox.deliver_due()

    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]
    assert [row.state for row in outbox_rows(casedesk)] == ["sent", "sent"]


def test_an_in_doubt_message_missing_from_slack_is_posted_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    for row in breach_alerts_queued(casedesk, clock):
        crash_while_sending(casedesk, row.id)  # died before the post reached Slack

    clock.advance(timedelta(minutes=3))
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=2)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]
    posted = fake_slack.messages(ALERTS_CHANNEL)[0]["metadata"]
    assert posted["event_type"] == METADATA_EVENT_TYPE
    assert posted["event_payload"]["outbox_id"] == outbox_rows(casedesk)[0].id


@pytest.mark.parametrize(
    ("channels", "waits"),
    [
        pytest.param([ALERTS_CHANNEL] * 3, 2, id="three-to-one-channel-wait-twice"),
        pytest.param([ALERTS_CHANNEL, OTHER_CHANNEL], 0, id="two-channels-do-not-wait"),
        pytest.param(
            [ALERTS_CHANNEL, OTHER_CHANNEL, ALERTS_CHANNEL, OTHER_CHANNEL, ALERTS_CHANNEL],
            2,  # the other channel's second post comes a second after its first anyway
            id="interleaved-channels-each-wait-for-their-own",
        ),
    ],
)
def test_posts_to_one_channel_are_paced_about_a_second_apart(
    fake_slack: FakeSlack, casedesk: Casedesk, channels: list[str], waits: int
) -> None:
    with casedesk.db.unit_of_work() as session:
        for number, channel in enumerate(channels, 1):
            content = SlackMessage(text=f"message {number}")
            enqueue(session, kind="test", channel_id=channel, content=content, now=START)
    sleeps: list[float] = []
    moments = [1000.0]  # the deliverer's monotonic clock, moved on by its sleeps

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        moments[0] += seconds

    paced = deliverer(
        casedesk,
        fake_slack,
        per_channel_interval=1.0,
        sleep=sleep,
        monotonic=lambda: moments[0],
    )

    assert paced.deliver_due() == DeliveryReport(sent=len(channels))

    assert len(sleeps) == waits
    # The wait is the second minus the time since the channel's last post.
    assert all(0.5 < seconds <= 1.0 for seconds in sleeps), sleeps
    for channel in set(channels):
        expected = [f"message {n}" for n, c in enumerate(channels, 1) if c == channel]
        assert texts(fake_slack, channel) == expected
