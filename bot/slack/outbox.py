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
- other updates in place (alerts, digests, the survey) carry their content: the newest for a
  message wins, and one whose answer was lost is looked for on the message, by its metadata,
  before it is sent again (bot/slack/updates.py);
- about one post a second per channel, Slack's pace, for every post this process makes: each
  takes its channel's next turn (bot/slack/pace.py). A change's posts do not keep the person
  who acted waiting for it: one whose turn is off goes to the pool when it comes (a card with
  its updates and thread posts), the others go on, and no thread sleeps meanwhile; the job
  in this process leaves such rows to their turn. One whose turn is further off than can be
  waited (30 s for a change's, the job's 10 s) goes back in the queue, due at its turn, and the
  job keeps delivering turns that come within its run.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from bot.clock import Clock
from bot.db import Database
from bot.runtime.executor import TrackingExecutor
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackDeliveryError, SlackGateway
from bot.slack.outbox_claims import Claim, DeliveryReport, OutboxClaims, Unsent
from bot.slack.pace import ChannelTurns, HeldForTurns
from bot.slack.queue import (
    CARD,
    CARD_UPDATE,
    DELETE,
    METADATA_EVENT_TYPE,
    POST,
    UPDATE,
    CardSource,
    enqueue,
    slack_content,
)
from bot.slack.updates import fixed_update
from models import OutboxMessage

__all__ = ["METADATA_EVENT_TYPE", "DeliveryReport", "OutboxDeliverer", "Unsent", "enqueue"]

log = logging.getLogger(__name__)

# How long a change waits for Slack before answering the person who acted; what is not out
# by then stays queued and is delivered as soon as Slack answers.
DELIVERY_WAIT = 2.0
# How long a post waits for its channel's turn before it is given back, due at that turn:
# a change's own posts (the person who acted is waiting), and the job's.
TURN_WAIT_NOW = 2.5
TURN_WAIT_JOB = 10.0
# ...and a change's posts that the person does not wait for (`deliver_within`): no thread waits
# for their turn either (they are handed to the pool when it comes).
TURN_WAIT_LATER = 30.0
# How long one run of the job goes on delivering rows that come due while it runs.
JOB_RUN_BUDGET = 12.0


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
        monotonic: Callable[[], float] = time.monotonic,
        now_pool: TrackingExecutor,
    ) -> None:
        self.db = db
        self.slack = slack
        self.clock = clock
        self.cards = cards
        self.claims = OutboxClaims(db, clock, cards)
        self.turns = ChannelTurns(per_channel_interval, monotonic=monotonic)
        self.held = HeldForTurns()
        self._sleep = sleep
        self._monotonic = monotonic
        self._now_pool = now_pool

    # Entry points

    def prune(self) -> int:
        """Drop rows settled long ago; returns how many."""
        return self.claims.prune()

    def deliver_due(self) -> DeliveryReport:
        """Send every row whose time has come (the scheduler's job); returns what happened.
        Rows woken by a card posted in this pass are sent in the same pass."""
        report = DeliveryReport()
        deadline = self._monotonic() + JOB_RUN_BUDGET
        for _ in range(1000):  # a card wakes its thread rows; rows given back get their turn
            ids = self.claims.due_ids(skip=self.held.held())  # those go at their turn here
            if ids:
                self._deliver_ids(ids, report, _Pass(TURN_WAIT_JOB))
                continue
            turn = self.turns.next_given_back()
            if turn is None or turn > deadline:
                break
            self._sleep(max(turn - self._monotonic(), 0.0) + 0.05)  # then it is due
        return report

    def deliver(self, message_ids: Iterable[int]) -> DeliveryReport:
        """Send these rows now, in order, if they are due (what a change just queued)."""
        report = DeliveryReport()
        self._deliver_ids(list(message_ids), report, _Pass(TURN_WAIT_NOW))
        return report

    def deliver_within(self, message_ids: list[int], seconds: float) -> DeliveryReport | None:
        """Deliver in the background and wait at most `seconds`: None means Slack is slow and
        the rows are still on their way (they stay queued and are retried if need be).

        The wait also ends when what is left only waits for its channel's turn (a burst into
        one channel, at Slack's pace of about one post a second): the person who acted is not
        kept waiting for that; the report says so (`pacing`) with what went out before. The
        rest goes out at that turn, in order, and no thread sleeps until then."""
        if not message_ids:
            return DeliveryReport()
        report = DeliveryReport()
        settled = threading.Event()  # delivered, or only waiting for a turn

        def pacing() -> None:
            report.pacing = True
            settled.set()

        def deliver() -> None:
            try:
                self._deliver_ids(message_ids, report, _Pass(TURN_WAIT_LATER, on_pace=pacing))
            except Exception:  # the change is saved; what is queued goes out with the job
                log.exception("delivering %s failed; the job will", message_ids)
            finally:
                settled.set()

        try:
            self._now_pool.submit(deliver)
        except RuntimeError:  # shutting down: what is queued goes out with the job
            return None
        if not settled.wait(seconds):
            return None
        return report  # what comes later goes in reports of its own

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no delivery started by `deliver_within` is still running."""
        return self._now_pool.wait_idle(timeout)

    def _deliver_ids(self, ids: list[int], report: DeliveryReport, step: _Pass) -> None:
        queue = deque(ids)
        paced = False
        while queue:
            message_id = queue.popleft()
            if not self.held.may_send(message_id, at_turn=step.at_turn):
                continue  # a turn of this process's comes for it
            try:
                claim = self.claims.claim(message_id, step.held, step.cards_later)
                wait = self._deliver(claim, report, step) if claim is not None else None
            except Exception:  # the database, or a bug: this row waits, the others go on
                log.exception("outbox %s: delivery failed; it stays queued", message_id)
                report.unsent[message_id] = Unsent("", "", "an error on our side", True)
                continue
            if claim is not None and wait is not None:  # its turn is off: it goes out then
                self._send_at_turn(claim.row, wait, queue, step)
                paced = True
        if paced and step.on_pace is not None:
            step.on_pace()  # what is left only waits for its turn

    def _send_at_turn(
        self, row: OutboxMessage, wait: float, queue: deque[int], step: _Pass
    ) -> None:
        """Hand the row to the pool at its turn, with the rows that need it first (a card's
        updates and thread posts); the other rows in `queue` go on now."""
        later = [row.id]
        if row.kind == CARD and row.case_id is not None and queue:
            behind = set(self.claims.needing_card(row.case_id, list(queue)))
            later += [message_id for message_id in queue if message_id in behind]
            for message_id in later[1:]:
                queue.remove(message_id)
        self.held.hold(later)
        turn = _Pass(step.longest, on_pace=_told_already, reserved=row.id, at_turn=True)
        self._now_pool.submit_after(wait, partial(self._at_turn, later, turn))

    def _at_turn(self, ids: list[int], step: _Pass) -> None:
        try:
            self._deliver_ids(ids, DeliveryReport(), step)
        except Exception:  # what is left stays due: the job sends it
            self.held.release(ids)
            log.exception("outbox %s: delivery at their turn failed; the job will", ids)

    # Delivering one row

    def _deliver(self, claim: Claim, report: DeliveryReport, step: _Pass) -> float | None:
        """Deliver one claimed row; in how many seconds its turn comes when it was given back
        for it (`step.on_pace`: no thread waits), else None."""
        row = claim.row
        try:
            target = self._target(claim, report)
            if target is None:
                return None
            channel, thread_ts, content = target
            if claim.in_doubt and row.op == POST:
                # Looked for where the earlier attempt went (a card's team may have changed).
                found = self._already_posted(row, row.channel_id, thread_ts)
                if found:
                    self.claims.mark_sent(claim, found, report, recovered=True)
                    return None
            elif claim.in_doubt and fixed_update(row) and self._already_updated(row, channel):
                self.claims.mark_sent(claim, str(row.target_ts), report, recovered=True)
                return None
            if row.kind == CARD:
                self.claims.set_channel(claim, channel)
            if row.op == POST:
                wait = 0.0 if step.reserved == row.id else self.turns.take(channel, step.longest)
                if wait is None:  # not this channel's turn for a while: back in the queue
                    self.claims.give_back(
                        claim, report, timedelta(seconds=self.turns.give_back(channel))
                    )
                    if row.kind == CARD and row.case_id is not None:
                        step.cards_later.add(row.case_id)  # its thread posts wait for it
                    return None
                if wait > 0 and step.on_pace is not None:
                    # Handed back to the pool at its turn; due at once all the same, so the
                    # job (another process's too) may send it first, at a turn of its own.
                    self.claims.give_back(claim, None, timedelta(0))
                    return wait
                if wait > 0:
                    self._sleep(wait)
            if not self.claims.renew(claim):
                return None
            ts = self._call(row, channel, thread_ts, content)
        except SlackDeliveryError as error:
            self.claims.failed_attempt(claim, error, report, step.held)
            return None
        self.claims.mark_sent(claim, ts, report)
        if row.op == POST:
            self._attach_file(row, channel, ts)
        return None

    def _target(
        self, claim: Claim, report: DeliveryReport
    ) -> tuple[str, str | None, SlackMessage | None] | None:
        """Where the row goes and what it says now; None if it waits or was settled here."""
        row = claim.row
        if row.kind not in (CARD, CARD_UPDATE) and not row.in_case_thread:
            channel = self._direct_message_channel(claim)
            return channel, row.thread_ts, self._content(row) if row.op != DELETE else None
        assert row.case_id is not None
        with self.db.read_only() as session:
            card = self.cards.render_card(session, row.case_id)
            # A card update or thread post whose card is not in Slack: is one on its way?
            waiting = (
                row.kind != CARD and card is not None and not (card.card_ts and card.card_channel)
            )
            outstanding = waiting and self.cards.card_outstanding(session, row.case_id)
        if row.kind == CARD:
            if card is None or card.card_ts:
                self.claims.settle(claim, "superseded", report)  # case gone, or it has a card
                return None
            return card.channel, None, card.content  # the case's team channel now
        if card is None or not (card.card_ts and card.card_channel):
            if outstanding:
                self.claims.wait_for_card(claim, report)
            else:
                self.claims.settle(claim, "failed", report, "the case has no card in Slack")
            return None
        # A card update changes the card; a thread post goes under it.
        content = card.content if row.kind == CARD_UPDATE else self._content(row)
        return card.card_channel, card.card_ts, content

    def _call(
        self, row: OutboxMessage, channel: str, thread_ts: str | None, content: SlackMessage | None
    ) -> str:
        if row.op == UPDATE:
            assert content is not None
            # A card update is told the card's ts where others are told their thread's.
            target = row.target_ts if row.kind != CARD_UPDATE else thread_ts
            tag = _tag(row) if fixed_update(row) else None  # found by it when in doubt
            self.slack.update(channel, str(target), content, metadata=tag)
            return str(target)
        if row.op == DELETE:
            try:
                self.slack.delete(channel, str(row.target_ts))
            except SlackDeliveryError as error:
                if error.error != "message_not_found":  # already gone is what we wanted
                    raise
            return str(row.target_ts)
        assert content is not None
        return self.slack.post(channel, content, thread_ts=thread_ts, metadata=_tag(row))

    def _direct_message_channel(self, claim: Claim) -> str:
        """Messages to a person are queued with their user ID; post them (and look for them
        when in doubt) in the DM conversation Slack keeps with the bot."""
        row = claim.row
        if not row.channel_id.startswith(("U", "W")):
            return row.channel_id
        return self.claims.set_channel(claim, self.slack.direct_message_channel(row.channel_id))

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
            if _tagged(posted, row):
                return str(posted.get("ts"))
        return None

    def _already_updated(self, row: OutboxMessage, channel: str) -> bool:
        """Whether the message in Slack carries this row's update (by its metadata). Raises
        SlackDeliveryError when the message cannot be read."""
        ts = str(row.target_ts)  # its thread, or the message alone
        return any(
            posted.get("ts") == ts and _tagged(posted, row)
            for posted in self.slack.recent_messages(channel, thread_ts=ts)
        )

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


def _told_already() -> None:
    """The person who acted was answered when the first turn was waited for."""


@dataclass
class _Pass:
    """One delivery pass over some rows."""

    longest: float  # seconds a post may wait for its channel's turn
    # Set by `deliver_within`: a post whose turn is off is given back, due at its turn, and
    # handed back to the pool then with the rows after it; this says so.
    on_pace: Callable[[], None] | None = None
    reserved: int | None = None  # the row whose turn was taken already (it was given back)
    at_turn: bool = False  # the pass a turn held for its rows came for
    held: set[tuple[str, str]] = field(default_factory=set)  # (channel, op) rate limited
    cards_later: set[int] = field(default_factory=set)  # cases whose card was given back


def _tag(row: OutboxMessage) -> dict[str, Any]:
    """The metadata that ties a message (or its latest update) to its outbox row."""
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"outbox_id": row.id, "kind": row.kind},
    }


def _tagged(message: dict[str, Any], row: OutboxMessage) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == METADATA_EVENT_TYPE and payload.get("outbox_id") == row.id
