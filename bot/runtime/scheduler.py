"""The jobs and the in-process APScheduler that runs them.

Jobs are defined in code (in-memory job store; nothing is pickled), each with `coalesce=True`,
`max_instances=1` and a misfire grace time, and each first runs right at start-up, so work that
fell due while the process was down is caught up once. Only the lease holder runs them:
every process keeps a heartbeat on the lease (bot/runtime/lease.py), and a process that takes
the lease over from one that died runs every job at once, as at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import metrics_registry
from bot.runtime.lease import HEARTBEAT, Heartbeat, LeaderLease

log = logging.getLogger(__name__)

MISFIRE_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], str]  # returns a one-line summary of what it did
    description: str


class JobScheduler:
    def __init__(
        self, jobs: list[Job], lease: LeaderLease, *, heartbeat: timedelta = HEARTBEAT
    ) -> None:
        self.jobs = jobs
        self.lease = lease
        self._heartbeat = Heartbeat(lease, self._on_beat, every=heartbeat)
        self._leading: bool | None = None  # as the last beat found; None before the first
        self._scheduler: Any = None

    def start(self) -> None:
        self._heartbeat.start()  # its first beat says now whether this process leads
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
        self._heartbeat.stop()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.lease.release()
        metrics_registry.leading(False)

    def _on_beat(self, held: bool) -> None:
        metrics_registry.leading(held)
        if held == self._leading:
            return  # no line per beat: only a change is news
        first, self._leading = self._leading is None, held
        if held and first:
            log.info("this process holds the scheduler lease: it runs the jobs")
        elif held:
            log.info("took over the scheduler lease: running every job now")
            self._run_every_job_now()
        elif first:
            log.info("another process holds the scheduler lease; this one takes over if it stops")
        else:
            log.warning("lost the scheduler lease: the jobs stop here until it is taken back")

    def _run_every_job_now(self) -> None:
        """What the last holder may have left undone, caught up at once, as at start-up."""
        scheduler = self._scheduler
        if scheduler is not None:
            for job in scheduler.get_jobs():
                job.modify(next_run_time=datetime.now(UTC))

    def _as_leader(self, job: Job) -> None:
        if not self.lease.held():
            log.debug("%s skipped: another process holds the scheduler lease", job.name)
            return
        try:
            with metrics_registry.job_run(job.name):  # counted, timed, failures too
                summary = job.run()
        except Exception:
            log.exception("job %s failed", job.name)
            return
        # Jobs run every 15 s to 5 min: a routine run is no event (a failure is, above).
        log.debug("job %s: %s", job.name, summary)


def find_job(jobs: list[Job], name: str) -> Job | None:
    return next((job for job in jobs if job.name == name), None)
