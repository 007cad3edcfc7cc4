"""Interactive requests kept until their work is done.

Slack gives a slash command, a click or a form submission 3 seconds for an answer, so the bot
acknowledges at once and works afterwards. Between the two, the request lives here: stored
(keyed by its `trigger_id`) before it is acknowledged, marked done by the change it causes in
that change's own transaction. So:
- the same request sent again (a replay, a user's retry of one signed body) does nothing;
- a request acknowledged by a process that died before finishing it is carried out by the
  next process that looks (`due` / `take`, the `replay-requests` job), exactly once, since a
  change that committed also committed its request's `done_at`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import Database
from models import ProcessedSlackEvent, SlackRequest

log = logging.getLogger(__name__)

# A request not done this long after it was taken is carried out again by whoever looks.
WORK_LEASE = timedelta(minutes=10)
# A request whose work failed this often is given up (and logged), not retried for ever.
MAX_ATTEMPTS = 3
# Done requests are kept this long, to recognise replays (Slack signs for 5 minutes).
KEEP_DONE = timedelta(days=1)
_KEY_LENGTH = 64
_MARKED_KEPT = 10_000


def request_key(body: dict[str, Any]) -> str | None:
    """The key of an interactive request (its kind and trigger_id), None for other requests."""
    trigger = body.get("trigger_id")
    if not isinstance(trigger, str) or not trigger:
        return None
    kind = body.get("type") if isinstance(body.get("type"), str) else "command"
    key = f"{kind}:{trigger}"
    if len(key) > _KEY_LENGTH:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()[: _KEY_LENGTH - 7]
    return key


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._finishing: list[str] = []
        self._finishing_lock = threading.Lock()
        self._flush_scheduled = False
        # Requests whose change committed their done mark: nothing left to mark.
        self._marked: set[str] = set()

    def receive(self, key: str, raw_body: str, content_type: str) -> bool:
        """Keep a request just received; False if it was received before (a replay)."""
        now = self.clock.now()
        try:
            with self.db.ack_unit_of_work() as session:  # one INSERT, on the ack's path
                session.execute(
                    insert(SlackRequest).values(
                        key=key,
                        raw_body=raw_body,
                        content_type=content_type,
                        received_at=now,
                        claimed_until=now + WORK_LEASE,
                        attempts=1,
                    )
                )
        except IntegrityError:
            return False
        return True

    def finish(self, session: Session, key: str) -> bool:
        """Mark the request done in the caller's transaction; False if it was done already
        (then the caller's change must not happen again)."""
        done = session.execute(
            update(SlackRequest)
            .where(SlackRequest.key == key, SlackRequest.done_at.is_(None))
            .values(done_at=self.clock.now())
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return False
        event.listen(session, "after_commit", lambda _session: self._note_marked(key), once=True)
        return True

    def _note_marked(self, key: str) -> None:
        with self._finishing_lock:
            if len(self._marked) >= _MARKED_KEPT:  # keys whose work never said it finished
                self._marked.clear()
            self._marked.add(key)

    def finish_soon(self, key: str) -> bool:
        """Mark the request done with the next `flush`, together with others finishing about
        now: one write for many, so finishing work keeps out of the way of the acks' writes.
        True if the caller should schedule a flush (none is scheduled yet)."""
        with self._finishing_lock:
            if key in self._marked:  # its change marked it done
                self._marked.discard(key)
                return False
            self._finishing.append(key)
            schedule, self._flush_scheduled = not self._flush_scheduled, True
        return schedule

    def flush(self) -> None:
        """Mark done every request handed to `finish_soon` so far."""
        with self._finishing_lock:
            keys, self._finishing, self._flush_scheduled = self._finishing, [], False
        for start in range(0, len(keys), 500):
            with self.db.unit_of_work() as session:
                session.execute(
                    update(SlackRequest)
                    .where(
                        SlackRequest.key.in_(keys[start : start + 500]),
                        SlackRequest.done_at.is_(None),
                    )
                    .values(done_at=self.clock.now())
                )

    def finish_now(self, key: str) -> None:
        """Mark the request done now, in a transaction of its own."""
        with self.db.unit_of_work() as session:
            self.finish(session, key)

    def renew(self, key: str) -> None:
        """Hold the request again for WORK_LEASE: its work starts only now."""
        with self.db.unit_of_work() as session:
            session.execute(
                update(SlackRequest)
                .where(SlackRequest.key == key, SlackRequest.done_at.is_(None))
                .values(claimed_until=self.clock.now() + WORK_LEASE)
            )

    def due(self, limit: int = 50) -> list[str]:
        """Requests acknowledged but not done, whose worker's lease is over."""
        self.flush()
        with self.db.read_only() as session:
            return list(
                session.scalars(
                    select(SlackRequest.key)
                    .where(
                        SlackRequest.done_at.is_(None),
                        SlackRequest.claimed_until <= self.clock.now(),
                        SlackRequest.attempts <= MAX_ATTEMPTS,
                    )
                    .order_by(SlackRequest.received_at)
                    .limit(limit)
                )
            )

    def take(self, key: str) -> SlackRequest | None:
        """Hold a due request for this process; None if another took it, or it was started
        MAX_ATTEMPTS times already (given up, logged)."""
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            request = session.scalars(
                select(SlackRequest)
                .where(
                    SlackRequest.key == key,
                    SlackRequest.done_at.is_(None),
                    SlackRequest.claimed_until <= now,
                )
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if request is None:
                return None
            request.attempts += 1
            if request.attempts > MAX_ATTEMPTS:
                # No longer carried out again; not marked done, so a run still going can
                # finish it.
                log.error("request %s was started %s times; given up", key, MAX_ATTEMPTS)
                return None
            request.claimed_until = now + WORK_LEASE
            return request

    def forget_done(self, before: datetime | None = None) -> int:
        """Drop requests done, and Events API ids received, long enough ago that Slack's
        signature (five minutes) or retries (an hour at most) cannot bring them again."""
        cutoff = before or self.clock.now() - KEEP_DONE
        with self.db.unit_of_work() as session:
            requests = session.execute(
                delete(SlackRequest).where(
                    or_(
                        SlackRequest.done_at < cutoff,
                        (SlackRequest.attempts > MAX_ATTEMPTS)
                        & (SlackRequest.received_at < cutoff),
                    )
                )
            )
            events = session.execute(
                delete(ProcessedSlackEvent).where(ProcessedSlackEvent.received_at < cutoff)
            )
        return int(requests.rowcount + events.rowcount)  # type: ignore[attr-defined]
