"""Leader election: of several processes running the scheduler, one runs the jobs.

A lease row in the database names the holder and when it expires. Every process keeps a
heartbeat: the holder renews the lease every few seconds, whether or not a job is running, and
every other process tries to take it at the same pace, so when the holder dies (even with
`kill -9`) another holds the lease within TTL + HEARTBEAT. Works the same on PostgreSQL
(several replicas, several workers) and SQLite (one process; the lease is then a formality).

The holder counts the lease as its own for less than the TTL after the start of its last
renewal (`held()`), so it stops running jobs before another process may take over, even when
its renewals fail because the database is out of reach.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.clock import Clock
from bot.db import Database
from models import SchedulerLease

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(seconds=20)
# How often the holder renews and the others try to take over: a holder misses several beats
# before its lease runs out, and a dead holder's lease is taken within one beat of running out.
HEARTBEAT = timedelta(seconds=3)
# Of the TTL, how much the holder gives up at its end: room for the clocks of two machines to
# disagree, and for a renewal that took a while.
_CAUTION = 0.25


def process_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaderLease:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        name: str = "scheduler",
        holder: str | None = None,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.db = db
        self.clock = clock
        self.name = name
        self.holder = holder or process_identity()
        self.ttl = ttl
        self._held_until: float | None = None  # time.monotonic(); None: not held

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live process holds it."""
        started = time.monotonic()
        taken = self._take_or_renew()
        self._held_until = started + self.ttl.total_seconds() * (1 - _CAUTION) if taken else None
        return taken

    def held(self) -> bool:
        """Whether this process may run the jobs now: its last renewal succeeded, recently
        enough that no other process can have taken the lease over yet."""
        until = self._held_until
        return until is not None and time.monotonic() < until

    def release(self) -> None:
        self._held_until = None
        with self.db.unit_of_work() as session:
            lease = session.get(SchedulerLease, self.name)
            if lease is not None and lease.holder == self.holder:
                lease.expires_at = self.clock.now()

    def _take_or_renew(self) -> bool:
        now = self.clock.now()
        try:
            with self.db.unit_of_work() as session:
                lease = session.scalars(
                    select(SchedulerLease).where(SchedulerLease.name == self.name).with_for_update()
                ).one_or_none()
                if lease is None:
                    session.add(
                        SchedulerLease(
                            name=self.name, holder=self.holder, expires_at=now + self.ttl
                        )
                    )
                    return True
                if lease.holder != self.holder and lease.expires_at > now:
                    return False
                lease.holder, lease.expires_at = self.holder, now + self.ttl
                return True
        except IntegrityError:  # another process created the row at the same moment
            return False


class Heartbeat:
    """Keeps `lease` on a thread of its own: renews it every `every` while this process holds
    it, and tries to take it over as often while another does. After each beat it tells
    `on_beat` whether this process holds the lease. A database that cannot be reached is one
    warning (and one line when it answers again), not a line per beat."""

    def __init__(
        self,
        lease: LeaderLease,
        on_beat: Callable[[bool], None],
        *,
        every: timedelta = HEARTBEAT,
    ) -> None:
        self.lease = lease
        self.on_beat = on_beat
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unreachable = False

    def start(self) -> None:
        """Beat once now (so the caller knows at once whether it leads), then every `every`."""
        self.beat()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="casedesk-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def beat(self) -> None:
        try:
            self.lease.acquire()
        except SQLAlchemyError as error:  # held() runs out on its own if this goes on
            if not self._unreachable:
                log.warning(
                    "cannot renew the scheduler lease (%s); retrying every %d s",
                    type(error).__name__,
                    self.every.total_seconds(),
                )
            self._unreachable = True
        else:
            if self._unreachable:
                log.info("the scheduler lease can be renewed again")
            self._unreachable = False
        self.on_beat(self.lease.held())

    def _run(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            try:
                self.beat()
            except Exception:  # the heartbeat must go on, whatever one beat ran into
                log.exception("the scheduler lease heartbeat failed")
