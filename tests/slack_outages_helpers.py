"""What the modules about Slack failing share: recovering from an outage, reading the outbox and
what was posted, and queueing messages."""

from __future__ import annotations

from datetime import timedelta

from conftest import SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import Json

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk

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
