"""The outbox's rows in the database: which deliverer holds a row, and what became of it.

A deliverer claims a row (state `sending`, a fresh token, a lease from `sending_since`) and
renews the lease before every Slack call; every later write is conditional on still holding
the token, so a slow or stale deliverer can never overwrite a newer state. Results are
gathered in a `DeliveryReport`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import Database
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackDeliveryError
from bot.slack.queue import (
    CARD,
    CARD_UPDATE,
    CARD_WITHDRAWN,
    DELETE,
    OP_METHODS,
    POST,
    CardSource,
    enqueue,
)
from bot.slack.updates import Turn, fixed_update, update_turn
from models import OutboxMessage, SummaryPost

log = logging.getLogger(__name__)

# A `sending` row older than this belongs to a deliverer that died or hangs; the lease is
# renewed before every Slack call, and each call times out well within it.
IN_DOUBT_AFTER = timedelta(minutes=2)
FIRST_BACKOFF = timedelta(seconds=15)
MAX_BACKOFF = timedelta(minutes=15)  # a row retries for as long as Slack keeps failing
# A thread post or card update whose card is not in Slack yet looks again this much later
# (at once when the card is posted).
CARD_WAIT = timedelta(seconds=15)
# An update waiting for another update of the same message to land looks again this much later.
UPDATE_WAIT = timedelta(seconds=5)
# Settled rows (sent, failed, superseded) are kept this long, for looking into what happened.
KEEP_SETTLED = timedelta(days=30)
# A claim older than this renews its lease before the Slack call (a lookup took long).
RENEW_AFTER_SECONDS = 5.0
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
    # Some rows were still waiting for their channel's turn (at Slack's pace) when this was
    # read: they go out within seconds.
    pacing: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.sent} message(s) sent, {self.retried} to retry, {self.failed} failed" + (
            f", {self.recovered} found already posted" if self.recovered else ""
        )


@dataclass
class Claim:
    row: OutboxMessage  # detached: what the row said when it was claimed
    token: str
    in_doubt: bool
    claimed: float = field(default_factory=time.monotonic)


class OutboxClaims:
    def __init__(self, db: Database, clock: Clock, cards: CardSource) -> None:
        self.db = db
        self.clock = clock
        self.cards = cards

    def due_ids(self, skip: Collection[int] = ()) -> list[int]:
        """The rows whose time has come, oldest first, but for those in `skip`."""
        now = self.clock.now()
        due = select(OutboxMessage.id).where(
            or_(
                (OutboxMessage.state == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.state == "sending")
                & (OutboxMessage.sending_since <= now - IN_DOUBT_AFTER),
            )
        )
        if skip:
            due = due.where(OutboxMessage.id.not_in(skip))
        with self.db.read_only() as session:
            return list(session.scalars(due.order_by(OutboxMessage.id).limit(BATCH)))

    def needing_card(self, case_id: int, message_ids: list[int]) -> list[int]:
        """Which of these rows need the case's card in Slack first: its updates and the posts
        in its thread."""
        with self.db.read_only() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.id.in_(message_ids),
                        OutboxMessage.case_id == case_id,
                        OutboxMessage.in_case_thread | (OutboxMessage.kind == CARD_UPDATE),
                    )
                )
            )

    def claim(
        self,
        message_id: int,
        held: set[tuple[str, str]],
        cards_later: frozenset[int] | set[int] = frozenset(),
    ) -> Claim | None:
        """Take the row for this deliverer (state `sending`, a fresh token), or None if it is
        not due, held by a rate limit, waits for a card this pass gave back (`cards_later`,
        by case), or another deliverer has it."""
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if row is None or row.state in TERMINAL or (row.channel_id, row.op) in held:
                return None
            if row.in_case_thread and row.case_id in cards_later:
                return None  # stays due: the job tries it after the card
            in_doubt = row.state == "sending"
            if in_doubt and row.sending_since and row.sending_since > now - IN_DOUBT_AFTER:
                return None
            if not in_doubt and row.next_attempt_at > now:
                return None
            turn = update_turn(session, row, now - IN_DOUBT_AFTER)
            if turn is Turn.OVERTAKEN:
                row.state, row.claim_token = "superseded", None
                return None
            if turn is Turn.WAIT:  # one update of a message at a time, so they land in order
                row.next_attempt_at = now + UPDATE_WAIT
                if in_doubt:
                    row.sending_since = now - IN_DOUBT_AFTER + UPDATE_WAIT
                return None
            token = uuid.uuid4().hex
            row.state, row.sending_since, row.claim_token = "sending", now, token
            row.attempts += 1
            session.flush()
            return Claim(row, token, in_doubt)

    def renew(self, claim: Claim) -> bool:
        """Renew the lease before a Slack call, unless it was taken moments ago; False if
        another deliverer took the row."""
        if time.monotonic() - claim.claimed < RENEW_AFTER_SECONDS:
            return True  # the lease is all but whole (and every later write checks the token)
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

    def prune(self) -> int:
        """Drop rows settled more than KEEP_SETTLED ago (a summary's row stays: its record
        points at it)."""
        cutoff = self.clock.now() - KEEP_SETTLED
        with self.db.unit_of_work() as session:
            pruned = session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.state.in_(TERMINAL),
                    OutboxMessage.next_attempt_at < cutoff,
                    OutboxMessage.id.not_in(
                        select(SummaryPost.outbox_id).where(SummaryPost.outbox_id.is_not(None))
                    ),
                )
            )
        return int(pruned.rowcount)  # type: ignore[attr-defined]

    def held_row(self, session: Session, claim: Claim) -> OutboxMessage | None:
        """The row, locked, if this deliverer still holds it."""
        return session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id == claim.row.id, OutboxMessage.claim_token == claim.token)
            .with_for_update()
        ).one_or_none()

    def set_channel(self, claim: Claim, channel: str) -> str:
        """Where this row's message goes, remembered before it is sent (so an in-doubt check
        looks in the right place)."""
        if channel != claim.row.channel_id:
            with self.db.unit_of_work() as session:
                held = self.held_row(session, claim)
                if held is not None:
                    held.channel_id = channel
            claim.row.channel_id = channel
        return channel

    # Recording what happened (each write conditional on still holding the row)

    def mark_sent(
        self, claim: Claim, ts: str, report: DeliveryReport, *, recovered: bool = False
    ) -> None:
        now = self.clock.now()
        row = claim.row
        with self.db.unit_of_work() as session:
            marked = session.execute(  # one statement: held by this claim, and now sent
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == claim.token)
                .values(state="sent", sent_ts=ts, sent_at=now, last_error=None, claim_token=None)
                .execution_options(synchronize_session=False)
            )
            if not marked.rowcount:  # type: ignore[attr-defined]
                log.warning("outbox %s: sent, but another deliverer holds it now", row.id)
                return
            if row.kind == CARD and row.case_id is not None:
                if self.cards.card_posted(session, row.case_id, row.channel_id, ts):
                    _wake_waiting(session, row.case_id, now)
                else:  # another card won: withdraw this one
                    enqueue(
                        session, kind=CARD_WITHDRAWN, channel_id=row.channel_id, now=now,
                        op=DELETE, target_ts=ts, case_id=row.case_id,
                    )  # fmt: skip
        if recovered:
            report.recovered += 1
        else:
            report.sent += 1

    def settle(
        self, claim: Claim, state: str, report: DeliveryReport, error: str | None = None
    ) -> None:
        with self.db.unit_of_work() as session:
            row = self.held_row(session, claim)
            if row is not None:
                row.state, row.last_error, row.claim_token = state, error, None
        if state == "failed":
            report.failed += 1
            report.unsent[claim.row.id] = Unsent(
                claim.row.kind, claim.row.channel_id, error or "", False
            )
            log.error("outbox %s cannot be delivered: %s", claim.row.id, error)

    def wait_for_card(self, claim: Claim, report: DeliveryReport) -> None:
        """Give the row back, untried, until its case's card is in Slack."""
        self.give_back(claim, report, CARD_WAIT)

    def give_back(self, claim: Claim, report: DeliveryReport | None, after: timedelta) -> None:
        """Give the row back, untried, due again `after` from now (its card is not in
        Slack yet; its channel's turn to post is further off), noted in `report` if given."""
        if report is not None:
            report.unsent[claim.row.id] = Unsent(
                claim.row.kind, claim.row.channel_id, "", retrying=True, waiting=True
            )
        with self.db.unit_of_work() as session:
            session.execute(  # one statement, if this claim still holds the row
                update(OutboxMessage)
                .where(OutboxMessage.id == claim.row.id, OutboxMessage.claim_token == claim.token)
                .values(
                    state="pending",
                    claim_token=None,
                    attempts=OutboxMessage.attempts - 1,
                    next_attempt_at=self.clock.now() + after,
                )
                .execution_options(synchronize_session=False)
            )

    def failed_attempt(
        self,
        claim: Claim,
        error: SlackDeliveryError,
        report: DeliveryReport,
        held: set[tuple[str, str]],
    ) -> None:
        now = self.clock.now()
        retrying = error.retryable
        with self.db.unit_of_work() as session:
            row = self.held_row(session, claim)
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
                if row.op == POST or fixed_update(row):
                    # A timeout or 5xx may come after Slack posted (or updated): stay in doubt,
                    # so the next try looks for it in Slack before sending it again.
                    row.state, row.sending_since = "sending", now - IN_DOUBT_AFTER + backoff
                else:  # card updates (rendered afresh) and deletes can simply be repeated
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


def requeue(
    session: Session, message_id: int, content: SlackMessage, now: datetime
) -> OutboxMessage | None:
    """The row, locked, now carrying `content` instead and due at once, if it has not
    reached Slack yet; None if it is out or settled. One in doubt is still looked for in
    Slack before it is sent (found, it stays as it went out); one a deliverer holds right
    now keeps that attempt, and whichever lands is the one message in Slack."""
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    ).one_or_none()
    if row is None or row.state in TERMINAL:
        return None
    row.payload = {"text": content.text, "blocks": content.blocks}
    if row.state == "pending":
        row.next_attempt_at = min(row.next_attempt_at, now)
    elif row.claim_token is None and row.sending_since is not None:  # in doubt, nobody on it
        row.sending_since = min(row.sending_since, now - IN_DOUBT_AFTER)
    return row


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
    """15 s after the first failure, doubling up to MAX_BACKOFF (where it stays)."""
    doublings = min(max(attempts - 1, 0), 6)  # 15 s doubled six times is past MAX_BACKOFF
    return min(FIRST_BACKOFF * (1 << doublings), MAX_BACKOFF)
