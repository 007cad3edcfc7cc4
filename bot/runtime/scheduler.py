"""The jobs and the in-process APScheduler that runs them.

Jobs are defined in code (in-memory job store; nothing is pickled), each with `coalesce=True`,
`max_instances=1` and a misfire grace time, and each first runs right at start-up, so work that
fell due while the process was down is caught up once. Only the lease holder runs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.lease import LeaderLease

log = logging.getLogger(__name__)

MISFIRE_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], str]  # returns a one-line summary of what it did
    description: str


class JobScheduler:
    def __init__(self, jobs: list[Job], lease: LeaderLease) -> None:
        self.jobs = jobs
        self.lease = lease
        self._scheduler: Any = None

    def start(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
            },
        )
        for job in self.jobs:
            scheduler.add_job(
                self._as_leader,
                IntervalTrigger(seconds=int(job.every.total_seconds()), timezone=UTC),
                args=[job],
                id=job.name,
                name=job.description,
                next_run_time=datetime.now(UTC),  # catch up at start-up
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started: %s", ", ".join(job.name for job in self.jobs))

    def next_runs(self) -> dict[str, datetime | None]:
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.lease.release()

    def _as_leader(self, job: Job) -> None:
        if not self.lease.acquire():
            log.debug("%s skipped: another process holds the scheduler lease", job.name)
            return
        try:
            summary = job.run()
        except Exception:
            log.exception("job %s failed", job.name)
            return
        log.info("job %s: %s", job.name, summary)


def find_job(jobs: list[Job], name: str) -> Job | None:
    return next((job for job in jobs if job.name == name), None)
