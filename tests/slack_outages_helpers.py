"""What the modules about Slack failing share: the ways Slack fails for a while, recovering
from an outage, reading the outbox and what was posted, and queueing messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from conftest import SUPPORT_CHANNEL
from fake_slack import ApiCall, FakeSlack
from helpers import Json
from slack_driver import SlackDriver
from sqlalchemy import select

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from models import OutboxMessage

OUTAGE = 10_000  # more failures than any test makes calls
HANG = 30.0  # seconds an answer is held back: far past the app's 3 s timeout in the tests


@dataclass(frozen=True)
class Live:
    """The desk served over HTTP, the Slack it talks to, and the clock: the `live` fixture."""

    slack: SlackDriver
    fake: FakeSlack
    casedesk: Casedesk
    clock: ManualClock


@pytest.fixture(name="live")
def live_fixture(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> Live:
    return Live(slack, fake_slack, casedesk, clock)


@dataclass(frozen=True)
class Failure:
    """One way Slack fails every call to a method for a while."""

    name: str
    start: Callable[[FakeSlack, str], None]

    def __str__(self) -> str:  # the test's id
        return self.name


SERVER_ERROR = Failure(
    "answers 500",
    lambda fake, method: fake.fail_next(method, status=500, times=OUTAGE),
)
RATE_LIMITED = Failure(
    "answers 429 with Retry-After",
    lambda fake, method: fake.fail_next(method, status=429, retry_after=30, times=OUTAGE),
)
HANGS = Failure(
    "hangs past the timeout, then does it",
    lambda fake, method: fake.delay_next(method, HANG, times=OUTAGE),
)
ANSWER_LOST = Failure(
    "does it but the answer is lost",
    lambda fake, method: fake.lose_next_answer(method, status=500, times=OUTAGE),
)
FAILURES = [RATE_LIMITED, HANGS, ANSWER_LOST]  # beyond the 500s every outage test has


@contextmanager
def slack_failing(fake: FakeSlack, failure: Failure, method: str) -> Iterator[None]:
    """Slack fails `method` this way inside the block; after it, Slack is well again, and every
    call it held back has been answered (and done) before the test goes on."""
    before = len(fake.calls_to(method))
    failure.start(fake, method)
    try:
        yield
    finally:
        held = len(fake.calls_to(method)) - before if failure is HANGS else 0
        seen = fake.version
        fake.clear_faults()
        fake.release_delays()
        fake.wait_for(lambda f: f.version >= seen + held)  # each call done bumps the version


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


def assert_shows_the_last_update(fake: FakeSlack, channel: str, message: Json) -> None:
    """The message shows what the last update Slack carried out said (none came after it)."""
    *_, last = landed_updates(fake, channel, message["ts"])
    assert last.params["blocks"] == message["blocks"]


def landed_updates(fake: FakeSlack, channel: str, ts: str) -> list[ApiCall]:
    """The `chat.update` calls to one message that Slack carried out (not those it refused)."""
    return [
        call
        for call in fake.calls_to("chat.update")
        if call.params.get("channel") == channel and call.params.get("ts") == ts and not call.failed
    ]


def outbox_states(casedesk: Casedesk, kind: str) -> list[str]:
    """What became of each outbox row of this kind, oldest first."""
    with casedesk.db.read_only() as session:
        return list(
            session.scalars(
                select(OutboxMessage.state)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id)
            )
        )
