"""Leader election: of several processes running the scheduler, one runs the jobs.

A lease row in the database names the holder and when it expires. The holder renews it on
every job run; when it dies, the lease runs out and another process takes over. Works the same
on PostgreSQL (several replicas) and SQLite (one process; the lease is then a formality).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.db import Database
from models import SchedulerLease

DEFAULT_TTL = timedelta(seconds=90)


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

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live process holds it."""
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

    def release(self) -> None:
        with self.db.unit_of_work() as session:
            lease = session.get(SchedulerLease, self.name)
            if lease is not None and lease.holder == self.holder:
                lease.expires_at = self.clock.now()
