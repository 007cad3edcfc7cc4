"""Two `python -m bot serve` processes on one PostgreSQL database: exactly one runs the
scheduler's jobs, and when it dies another takes over. Killed with -9, the leader's lease runs
out and the other process runs the next due job within 30 s; stopped with SIGTERM, it gives the
lease up and the other takes over at once. Nothing is posted twice either way.

What is due is an SLA breach: a P1 case opened three days ago, after the leader is gone, so
only the new leader can post its alerts. Real processes against the Slack stand-in. And the
holder stops counting the lease its own before it can run out, so two never lead at once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, SIGNING_SECRET, sla_desk_yaml
from fake_slack import FakeSlack
from helpers import migrated_postgres, serve_env, served_bot, wait_until
from sla_delivery_helpers import (
    ALERTS_CHANNEL,
    SLA_YAML,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    open_case,
    slack_client,
    texts,
)

from bot.clock import ManualClock, SystemClock
from bot.db import Database
from bot.desk import DeskConfig
from bot.runtime.assembly import build_casedesk
from bot.runtime.lease import LeaderLease
from bot.runtime.settings import Settings
from models import SchedulerLease

FAILOVER_LIMIT = 30.0  # seconds from the leader's death to the next due job's post


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL schema of the test's own."""
    with migrated_postgres("failover between processes", prefix="casedesk_failover") as url:
        yield url


def test_after_kill_9_of_the_leader_the_other_runs_the_next_due_job_within_30_s_once(
    tmp_path: Path, fake_slack: FakeSlack, desk_config: DeskConfig, postgres_url: str
) -> None:
    with two_processes(tmp_path, fake_slack, desk_config, postgres_url) as (leader, other):
        leader.send_signal(signal.SIGKILL)
        died = time.monotonic()
        leader.wait(timeout=10)
        open_breached_case(fake_slack, desk_config, postgres_url, "VPN down")  # #2, due now

        wait_until(lambda: len(texts(fake_slack, ALERTS_CHANNEL)) == 4, "case #2's alerts", 60)
        took = time.monotonic() - died
        print(f"failover after kill -9: {took:.1f} s")  # shown with pytest -s
        assert took <= FAILOVER_LIMIT
        assert lease_holder_pid(postgres_url) == other.pid

    assert texts(fake_slack, ALERTS_CHANNEL) == [
        "SLA breached: first response for case #1",
        "SLA breached: resolution for case #1",
        "SLA breached: first response for case #2",
        "SLA breached: resolution for case #2",
    ]
    assert_nothing_posted_twice(fake_slack)


def test_a_leader_stopped_with_sigterm_hands_the_jobs_over_at_once(
    tmp_path: Path, fake_slack: FakeSlack, desk_config: DeskConfig, postgres_url: str
) -> None:
    with two_processes(tmp_path, fake_slack, desk_config, postgres_url) as (leader, other):
        leader.send_signal(signal.SIGTERM)
        assert leader.wait(timeout=30) == 0
        stopped = time.monotonic()
        open_breached_case(fake_slack, desk_config, postgres_url, "VPN down")

        wait_until(lambda: len(texts(fake_slack, ALERTS_CHANNEL)) == 4, "case #2's alerts", 60)
        took = time.monotonic() - stopped
        print(f"handover after SIGTERM: {took:.1f} s")  # shown with pytest -s
        # The lease was given up: the other takes it at its next heartbeat, not at expiry.
        assert took < 10
        assert lease_holder_pid(postgres_url) == other.pid

    assert_nothing_posted_twice(fake_slack)


def test_a_holder_stops_running_jobs_before_its_lease_can_pass_to_another(
    database: Database,
) -> None:
    """It counts the lease its own for three quarters of the TTL after its last renewal
    began: a holder whose renewals fail (the database out of reach) stops before another
    process may take over, even with the two machines' clocks a little apart."""
    lease = LeaderLease(database, SystemClock(), holder="first", ttl=timedelta(seconds=2))
    other = LeaderLease(database, SystemClock(), holder="second", ttl=timedelta(seconds=2))

    assert lease.acquire()
    assert lease.held()
    time.sleep(1.6)
    assert not lease.held()  # no renewal since: it runs no more jobs
    assert lease.acquire()  # renewed: its own again
    assert lease.held()
    assert not other.acquire()
    assert not other.held()


# Two serving processes, the first one leading


@contextmanager
def two_processes(
    tmp_path: Path, fake: FakeSlack, desk: DeskConfig, database_url: str
) -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """Case #1 breached before anything runs; the first process takes the lease and posts its
    alerts, then the second starts and waits its turn."""
    open_breached_case(fake, desk, database_url, "Printer on fire")
    with ExitStack() as processes:
        leader = processes.enter_context(serving(tmp_path, "leader", fake, database_url))
        wait_until(lambda: lease_holder_pid(database_url) == leader.pid, "the first leading")
        wait_until(lambda: len(texts(fake, ALERTS_CHANNEL)) == 2, "case #1's alerts")
        other = processes.enter_context(serving(tmp_path, "other", fake, database_url))
        assert lease_holder_pid(database_url) == leader.pid
        yield leader, other


@contextmanager
def serving(
    tmp_path: Path, name: str, fake: FakeSlack, database_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m bot serve` until it answers /readyz; killed at the end if still up."""
    env = serve_env(
        tmp_path,
        slack_api_url=fake.base_url,
        database_url=database_url,
        desk=sla_desk_yaml(SLA_YAML),
        SLACK_CHANNEL_INTERVAL="0",
    )
    with served_bot(env, log=tmp_path / f"{name}.log") as process:
        yield process


# The database and Slack, as the test sees them


def open_breached_case(fake: FakeSlack, desk: DeskConfig, database_url: str, title: str) -> None:
    """A P1 case opened three days ago, as the running bot would have: both of its SLA targets
    are long breached, so their alerts are due at the next sla-check."""
    database = Database(database_url, pool_size=1)
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=database_url,
        SLACK_CHANNEL_INTERVAL=0,
    )
    opened_at = ManualClock(datetime.now(UTC) - timedelta(days=3))
    opener = build_casedesk(
        settings, desk=desk, db=database, clock=opened_at, client=slack_client(fake)
    )
    try:
        open_case(opener, title, priority="p1")
    finally:
        opener.executor.shutdown(wait=True)
        database.dispose()


def lease_holder_pid(database_url: str) -> int | None:
    """The pid of the process holding the scheduler lease now (holders are host:pid:nonce)."""
    reader = Database(database_url, pool_size=1)
    try:
        with reader.read_only() as session:
            lease = session.get(SchedulerLease, "scheduler")
    finally:
        reader.dispose()
    if lease is None or lease.expires_at <= datetime.now(UTC):
        return None
    return int(lease.holder.split(":")[1])


def assert_nothing_posted_twice(fake: FakeSlack) -> None:
    """No message, alert, thread reply or summary was posted twice, by either process."""
    posted = Counter(
        (call.params.get("channel"), call.params.get("thread_ts"), call.params.get("text"))
        for call in fake.calls_to("chat.postMessage")
        if not call.failed
    )
    assert [post for post, times in posted.items() if times > 1] == []
