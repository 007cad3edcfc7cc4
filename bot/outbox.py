"""The Slack outbox: every Slack write that follows from a change, decided inside the change's
transaction and delivered after it commits.

Delivery guarantees:
- nothing is dropped: a 429 holds the row (and the other rows for the same channel and
  method) until Retry-After has passed, without sleeping; 5xx and timeouts back off and retry;
- nothing is done twice: a deliverer claims a row with a token and a lease, and every later
  write is conditional on still holding that token, so a slow or stale deliverer cannot undo
  a newer state. A post whose answer was lost (timeout, 5xx, a crash) is "in doubt": before it
  is sent again, the channel's (or thread's) history is searched for the metadata that tags it
  with its row id, and a message found there is adopted;
- cards are rendered from the case when delivered, so the latest state wins, and older queued
  updates of the same card are superseded; thread posts wait for their case's card;
- at most about one message a second per channel from the scheduler's jobs.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import Database
from bot.executor import TrackingExecutor
from bot.outbox_rows import (
    CARD,
    CARD_UPDATE,
    DELETE,
    METADATA_EVENT_TYPE,
    OP_METHODS,
    POST,
    UPDATE,
    CardSource,
    enqueue,
    slack_content,
)
from bot.slack import SlackDeliveryError, SlackGateway
from bot.views.blocks import SlackMessage
from models import OutboxMessage

__all__ = ["METADATA_EVENT_TYPE", "DeliveryReport", "OutboxDeliverer", "Unsent", "enqueue"]

log = logging.getLogger(__name__)

# A `sending` row older than this belongs to a deliverer that died or hangs; the lease is
# renewed before every Slack call, and each call times out well within it.
IN_DOUBT_AFTER = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=15)
# A thread post or card update whose card is not in Slack yet looks again this much later
# (at once when the card is posted).
CARD_WAIT = timedelta(seconds=15)
BATCH = 200
TERMINAL = ("sent", "failed", "superseded")


@dataclass(frozen=True)
class Unsent:
    """A row this delivery did not get out: `retrying` says it will be tried again."""

    kind: str
    channel_id: str
    error: str
    retrying: bool
    waiting: bool = False  # for its case's card, which is not in Slack yet


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0  # in-doubt rows found already posted
    unsent: dict[int, Unsent] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"{self.sent} message(s) sent, {self.retried} to retry, {self.failed} failed" + (
            f", {self.recovered} found already posted" if self.recovered else ""
        )

    def merge(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.recovered += other.recovered
        self.unsent.update(other.unsent)


@dataclass
class _Claim:
    row: OutboxMessage  # detached: what the row said when it was claimed
    token: str
    in_doubt: bool


class OutboxDeliverer:
    def __init__(
        self,
        db: Database,
        slack: SlackGateway,
        clock: Clock,
        *,
        cards: CardSource,
        per_channel_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        now_pool: TrackingExecutor,
    ) -> None:
        self.db = db
        self.slack = slack
        self.clock = clock
        self.cards = cards
        self.per_channel_interval = per_channel_interval
        self._sleep = sleep
        self._last_post: dict[str, float] = {}
        self._now_pool = now_pool

    # Entry points

    def deliver_due(self) -> DeliveryReport:
        """Send every row whose time has come (the scheduler's job); returns what happened.
        Rows woken by a card posted in this pass are sent in the same pass."""
        report = DeliveryReport()
        for _ in range(5):  # a card wakes its thread rows: go round again, a few times at most
            ids = self._due_ids()
            before = report.sent + report.recovered
            self._deliver_ids(ids, report, paced=True)
            if len(ids) < BATCH and report.sent + report.recovered == before:
                break
            if len(ids) < BATCH and not self._due_ids():
                break
        return report

    def deliver(self, message_ids: Iterable[int]) -> DeliveryReport:
        """Send these rows now, in order, if they are due (what a change just queued)."""
        report = DeliveryReport()
        self._deliver_ids(list(message_ids), report, paced=False)
        return report

    def deliver_within(self, message_ids: list[int], seconds: float) -> DeliveryReport | None:
        """Deliver in the background and wait at most `seconds`: None means Slack is slow and
        the rows are still on their way (they stay queued and are retried if need be)."""
        if not message_ids:
            return DeliveryReport()
        future = self._now_pool.submit(self.deliver, message_ids)
        try:
            return future.result(timeout=seconds)
        except FutureTimeout:
            return None

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no delivery started by `deliver_within` is still running."""
        return self._now_pool.wait_idle(timeout)

    def _deliver_ids(self, ids: list[int], report: DeliveryReport, *, paced: bool) -> None:
        held: set[tuple[str, str]] = set()  # (channel, op) rate limited in this pass
        for message_id in ids:
            claim = self._claim(message_id, held)
            if claim is not None:
                self._deliver(claim, report, held, paced=paced)

    # Claiming

    def _due_ids(self) -> list[int]:
        now = self.clock.now()
        with self.db.read_only() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.id)
                    .where(
                        or_(
                            (OutboxMessage.state == "pending")
                            & (OutboxMessage.next_attempt_at <= now),
                            (OutboxMessage.state == "sending")
                            & (OutboxMessage.sending_since <= now - IN_DOUBT_AFTER),
                        )
                    )
                    .order_by(OutboxMessage.id)
                    .limit(BATCH)
                )
            )

    def _claim(self, message_id: int, held: set[tuple[str, str]]) -> _Claim | None:
        """Take the row for this deliverer (state `sending`, a fresh token), or None if it is
        not due, held by a rate limit, or another deliverer has it."""
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if row is None or row.state in TERMINAL or (row.channel_id, row.op) in held:
                return None
            in_doubt = row.state == "sending"
            if in_doubt and row.sending_since and row.sending_since > now - IN_DOUBT_AFTER:
                return None
            if not in_doubt and row.next_attempt_at > now:
                return None
            token = uuid.uuid4().hex
            row.state, row.sending_since, row.claim_token = "sending", now, token
            row.attempts += 1
            if row.kind == CARD_UPDATE and row.case_id is not None:
                _supersede_older_updates(session, row)
            session.flush()
            return _Claim(row, token, in_doubt)

    def _renew(self, claim: _Claim) -> bool:
        """Renew the lease before a Slack call; False if another deliverer took the row."""
        with self.db.unit_of_work() as session:
            renewed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == claim.row.id, OutboxMessage.claim_token == claim.token)
                .values(sending_since=self.clock.now())
            )
        if renewed.rowcount == 0:  # type: ignore[attr-defined]
            log.warning("outbox %s: another deliverer took it over; leaving it", claim.row.id)
            return False
        return True

    def _held_row(self, session: Session, claim: _Claim) -> OutboxMessage | None:
        """The row, locked, if this deliverer still holds it."""
        return session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id == claim.row.id, OutboxMessage.claim_token == claim.token)
            .with_for_update()
        ).one_or_none()

    # Delivering one row

    def _deliver(
        self,
        claim: _Claim,
        report: DeliveryReport,
        held: set[tuple[str, str]],
        *,
        paced: bool,
    ) -> None:
        row = claim.row
        try:
            target = self._target(claim, report)
            if target is None:
                return
            channel, thread_ts, content = target
            if claim.in_doubt and row.op == POST:
                found = self._already_posted(row, channel, thread_ts)
                if found:
                    self._mark_sent(claim, found, report, recovered=True)
                    return
            if not self._renew(claim):
                return
            if paced and row.op == POST:
                self._pace(channel)
            ts = self._call(row, channel, thread_ts, content)
        except SlackDeliveryError as error:
            self._failed_attempt(claim, error, report, held)
            return
        self._mark_sent(claim, ts, report)
        if row.op == POST:
            self._attach_file(row, channel, ts)

    def _target(
        self, claim: _Claim, report: DeliveryReport
    ) -> tuple[str, str | None, SlackMessage | None] | None:
        """Where the row goes and what it says now; None if it waits or was settled here."""
        row = claim.row
        with self.db.read_only() as session:
            if row.kind in (CARD, CARD_UPDATE) or row.in_case_thread:
                assert row.case_id is not None
                card = self.cards.render_card(session, row.case_id)
                outstanding = self.cards.card_outstanding(session, row.case_id, except_id=row.id)
            else:
                card, outstanding = None, False
        if row.kind == CARD:
            if card is None or card.card_ts:
                self._settle(claim, "superseded", report)  # case gone, or it has a card
                return None
            # A new card goes to the case's team channel now; a card that may have been posted
            # already is looked for where it went.
            channel = row.channel_id if claim.in_doubt else self._set_channel(claim, card.channel)
            return channel, None, card.content
        if row.kind == CARD_UPDATE or row.in_case_thread:
            if card is None or not (card.card_ts and card.card_channel):
                if outstanding:
                    self._wait_for_card(claim, report)
                else:
                    self._settle(claim, "failed", report, "the case has no card in Slack")
                return None
            content = card.content if row.kind == CARD_UPDATE else None
            if row.kind == CARD_UPDATE:
                return card.card_channel, card.card_ts, content
            return card.card_channel, card.card_ts, self._content(row)
        channel = self._direct_message_channel(claim)
        return channel, row.thread_ts, self._content(row) if row.op != DELETE else None

    def _call(
        self, row: OutboxMessage, channel: str, thread_ts: str | None, content: SlackMessage | None
    ) -> str:
        if row.op == UPDATE:
            assert content is not None
            target = row.target_ts if row.kind != CARD_UPDATE else thread_ts
            self.slack.update(channel, str(target), content)
            return str(target)
        if row.op == DELETE:
            try:
                self.slack.delete(channel, str(row.target_ts))
            except SlackDeliveryError as error:
                if error.error != "message_not_found":  # already gone is what we wanted
                    raise
            return str(row.target_ts)
        assert content is not None
        return self.slack.post(
            channel,
            content,
            thread_ts=thread_ts,
            metadata={
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {"outbox_id": row.id, "kind": row.kind},
            },
        )

    def _direct_message_channel(self, claim: _Claim) -> str:
        """Messages to a person are queued with their user ID; post them (and look for them
        when in doubt) in the DM conversation Slack keeps with the bot."""
        row = claim.row
        if not row.channel_id.startswith(("U", "W")):
            return row.channel_id
        return self._set_channel(claim, self.slack.direct_message_channel(row.channel_id))

    def _set_channel(self, claim: _Claim, channel: str) -> str:
        """Where this row's message goes, remembered before it is sent (so an in-doubt check
        looks in the right place)."""
        if channel != claim.row.channel_id:
            with self.db.unit_of_work() as session:
                held = self._held_row(session, claim)
                if held is not None:
                    held.channel_id = channel
            claim.row.channel_id = channel
        return channel

    def _content(self, row: OutboxMessage) -> SlackMessage:
        link_to = row.payload.get("link_to")
        url = self.slack.permalink(str(link_to[0]), str(link_to[1])) if link_to else None
        return slack_content(row.payload, url)

    def _already_posted(
        self, row: OutboxMessage, channel: str, thread_ts: str | None
    ) -> str | None:
        """The ts of this row's message if Slack has it (found by its metadata), else None.
        Raises SlackDeliveryError when the history cannot be read."""
        # If the history cannot be read, the row stays in doubt (see _failed_attempt): looked
        # for again later rather than posted twice.
        for posted in self.slack.recent_messages(channel, thread_ts=thread_ts):
            metadata = posted.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT_TYPE
                and payload.get("outbox_id") == row.id
            ):
                return str(posted.get("ts"))
        return None

    def _attach_file(self, row: OutboxMessage, channel: str, ts: str) -> None:
        """Upload the row's file (a chart) into the message's thread. The message itself is
        out already, so a failed upload is logged and left at that."""
        attachment = row.payload.get("file")
        if not attachment:
            return
        try:
            self.slack.upload_file(
                channel,
                base64.b64decode(attachment["content_b64"]),
                filename=str(attachment["filename"]),
                title=str(attachment["title"]),
                thread_ts=ts,
            )
        except (SlackDeliveryError, KeyError, ValueError) as error:
            log.warning("outbox %s: file upload failed (%s); the message went out", row.id, error)

    # Recording what happened (each write conditional on still holding the row)

    def _mark_sent(
        self, claim: _Claim, ts: str, report: DeliveryReport, *, recovered: bool = False
    ) -> None:
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = self._held_row(session, claim)
            if row is None:
                log.warning("outbox %s: sent, but another deliverer holds it now", claim.row.id)
                return
            row.state, row.sent_ts, row.sent_at, row.last_error = "sent", ts, now, None
            row.claim_token = None
            if row.kind == CARD and row.case_id is not None:
                if self.cards.card_posted(session, row.case_id, row.channel_id, ts):
                    _wake_waiting(session, row.case_id, now)
                else:  # another card won: withdraw this one
                    enqueue(
                        session, kind="card_withdrawn", channel_id=row.channel_id, now=now,
                        op=DELETE, target_ts=ts, case_id=row.case_id,
                    )  # fmt: skip
        if recovered:
            report.recovered += 1
        else:
            report.sent += 1

    def _settle(
        self, claim: _Claim, state: str, report: DeliveryReport, error: str | None = None
    ) -> None:
        with self.db.unit_of_work() as session:
            row = self._held_row(session, claim)
            if row is not None:
                row.state, row.last_error, row.claim_token = state, error, None
        if state == "failed":
            report.failed += 1
            report.unsent[claim.row.id] = Unsent(
                claim.row.kind, claim.row.channel_id, error or "", False
            )
            log.error("outbox %s cannot be delivered: %s", claim.row.id, error)

    def _wait_for_card(self, claim: _Claim, report: DeliveryReport) -> None:
        """Give the row back, untried, until its case's card is in Slack."""
        report.unsent[claim.row.id] = Unsent(
            claim.row.kind, claim.row.channel_id, "", retrying=True, waiting=True
        )
        with self.db.unit_of_work() as session:
            row = self._held_row(session, claim)
            if row is not None:
                row.state, row.claim_token = "pending", None
                row.attempts -= 1
                row.next_attempt_at = self.clock.now() + CARD_WAIT

    def _failed_attempt(
        self,
        claim: _Claim,
        error: SlackDeliveryError,
        report: DeliveryReport,
        held: set[tuple[str, str]],
    ) -> None:
        now = self.clock.now()
        retrying = error.retryable
        with self.db.unit_of_work() as session:
            row = self._held_row(session, claim)
            if row is None:
                return
            row.last_error, row.claim_token = str(error), None
            if error.rate_limited:
                # Slack refused before doing anything: hold this channel and method until
                # Retry-After has passed, for every row waiting on them.
                not_before = now + timedelta(seconds=error.retry_after or 1)
                row.state, row.next_attempt_at = "pending", not_before
                if claim.in_doubt:  # the earlier attempt's fate is still unknown
                    row.state, row.sending_since = "sending", not_before - IN_DOUBT_AFTER
                if error.method == OP_METHODS[row.op]:
                    _hold(session, row.channel_id, row.op, not_before)
                    held.add((row.channel_id, row.op))
                log.info("outbox %s: rate limited until %s", row.id, not_before)
            elif retrying:
                backoff = _backoff(row.attempts)
                row.next_attempt_at = now + backoff
                if row.op == POST:
                    # A timeout or 5xx may come after Slack posted: stay in doubt, so the next
                    # try looks for the message in the history before posting again.
                    row.state, row.sending_since = "sending", now - IN_DOUBT_AFTER + backoff
                else:  # updates and deletes can simply be repeated
                    row.state = "pending"
                log.info("outbox %s: %s; retrying in %s", row.id, error, backoff)
            else:
                row.state = "failed"
                log.error("outbox %s cannot be delivered: %s", row.id, error)
        if retrying:
            report.retried += 1
        else:
            report.failed += 1
        report.unsent[claim.row.id] = Unsent(
            claim.row.kind, claim.row.channel_id, error.error, retrying
        )

    def _pace(self, channel_id: str) -> None:
        last = self._last_post.get(channel_id)
        if last is not None:
            wait = self.per_channel_interval - (time.monotonic() - last)
            if wait > 0:
                self._sleep(wait)
        self._last_post[channel_id] = time.monotonic()


def _supersede_older_updates(session: Session, row: OutboxMessage) -> None:
    """This update renders the card as it is now: older queued updates have nothing to add."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.case_id == row.case_id,
            OutboxMessage.kind == CARD_UPDATE,
            OutboxMessage.state == "pending",
            OutboxMessage.id < row.id,
        )
        .values(state="superseded")
    )


def _wake_waiting(session: Session, case_id: int, now: datetime) -> None:
    """The case's card is in Slack: its thread posts and card updates may go at once."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.case_id == case_id,
            OutboxMessage.state == "pending",
            OutboxMessage.next_attempt_at > now,
            or_(OutboxMessage.in_case_thread.is_(True), OutboxMessage.kind == CARD_UPDATE),
        )
        .values(next_attempt_at=now)
    )


def _hold(session: Session, channel_id: str, op: str, not_before: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel_id == channel_id,
            OutboxMessage.op == op,
            OutboxMessage.state == "pending",
            OutboxMessage.next_attempt_at < not_before,
        )
        .values(next_attempt_at=not_before)
    )


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
