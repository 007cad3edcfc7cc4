"""The scheduler lease that lets one process run the jobs, and the job command line: `run-job
sla-check` and `jobs`."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, SIGNING_SECRET, START, sla_desk_yaml
from fake_slack import FakeSlack
from helpers import run_bot
from sla_delivery_helpers import (
    ALERTS_CHANNEL,
    FIRST_RESPONSE_BREACH,
    RESOLUTION_BREACH,
    SLA_YAML,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    open_case,
    slack_client,
    texts,
)

from bot.clock import ManualClock
from bot.db import Database
from bot.desk import DeskConfig
from bot.runtime.assembly import build_casedesk
from bot.runtime.lease import LeaderLease
from bot.runtime.settings import Settings

# Helpers: acting on cases, running the job, reading what happened


@pytest.fixture
def leases(database: Database, clock: ManualClock) -> tuple[LeaderLease, LeaderLease]:
    """The scheduler lease as two processes hold it, 90 s at a time: `first` and `second`."""
    ttl = timedelta(seconds=90)
    return (
        LeaderLease(database, clock, holder="first", ttl=ttl),
        LeaderLease(database, clock, holder="second", ttl=ttl),
    )


@pytest.fixture
def cli_env(tmp_path: Path, sqlite_template: Path, fake_slack: FakeSlack) -> dict[str, str]:
    """An operator's environment: a SQLite file, app.yaml with the SLA section, the fake API."""
    shutil.copy(sqlite_template, tmp_path / "casedesk.db")
    config = tmp_path / "app.yaml"
    config.write_text(sla_desk_yaml(SLA_YAML), encoding="utf-8")
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'casedesk.db'}",
        "SUPPORT_CONFIG": str(config),
        "SLACK_CHANNEL_INTERVAL": "0",
    }


def open_case_in(
    env: dict[str, str], fake: FakeSlack, desk: DeskConfig, opened_at: datetime, priority: str
) -> None:
    """Open a case in the operator's database at `opened_at`, as the running bot would have."""
    database = Database(env["DATABASE_URL"])
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=env["DATABASE_URL"],
        SLACK_CHANNEL_INTERVAL=0,
    )
    opened = build_casedesk(
        settings, desk=desk, db=database, clock=ManualClock(opened_at), client=slack_client(fake)
    )
    try:
        open_case(opened, priority=priority)
    finally:
        opened.executor.shutdown(wait=True)
        database.dispose()


# The scheduler lease


def test_a_second_process_is_refused_the_lease_while_the_first_holds_it(
    leases: tuple[LeaderLease, LeaderLease], clock: ManualClock
) -> None:
    first, second = leases

    assert first.acquire()
    assert not second.acquire()
    clock.advance(timedelta(seconds=60))
    assert first.acquire()  # renewed: now held until +150 s
    clock.advance(timedelta(seconds=60))
    assert not second.acquire()


def test_the_lease_passes_to_another_process_once_it_expires(
    leases: tuple[LeaderLease, LeaderLease], clock: ManualClock
) -> None:
    first, second = leases
    assert first.acquire()

    clock.advance(timedelta(seconds=89))
    assert not second.acquire()
    clock.advance(timedelta(seconds=2))
    assert second.acquire()
    assert not first.acquire()


def test_release_hands_the_lease_over_at_once_and_only_by_its_holder(
    leases: tuple[LeaderLease, LeaderLease],
) -> None:
    first, second = leases
    assert first.acquire()

    second.release()  # not the holder: changes nothing
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()


# The job command line


def test_run_job_sla_check_decides_delivers_and_prints_its_report(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack, desk_config: DeskConfig
) -> None:
    # A P1 case (24x7) opened three days ago: both of its targets are long breached.
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    open_case_in(cli_env, fake_slack, desk_config, three_days_ago, "p1")

    result = run_bot("run-job", "sla-check", cwd=tmp_path, **cli_env)

    assert (result.returncode, result.stdout) == (
        0,
        # Each breach in the alert channel and the thread, and one update of the card.
        "sla-check: 0 warning(s), 2 breach(es); 5 message(s) sent, 0 to retry, 0 failed\n",
    ), result.stderr
    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH, RESOLUTION_BREACH]


def test_run_job_with_an_unknown_name_exits_1_naming_the_jobs(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_bot("run-job", "nope", cwd=tmp_path, **cli_env)

    assert (result.returncode, result.stdout) == (1, "")
    last_line = result.stderr.splitlines()[-1]
    named = re.fullmatch(r"casedesk: there is no job 'nope'; jobs: (.+)", last_line)
    assert named, result.stderr
    assert {"sla-check", "deliver-outbox"} <= set(named.group(1).split(", "))


def test_jobs_lists_sla_check_and_deliver_outbox_and_the_next_sla_moment(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack, desk_config: DeskConfig
) -> None:
    open_case_in(cli_env, fake_slack, desk_config, START, "p3")  # warning due START + 45 min

    result = run_bot("jobs", cwd=tmp_path, **cli_env)

    assert result.returncode == 0, result.stderr
    jobs = {line.split()[0]: line for line in result.stdout.splitlines()[:-1]}
    assert re.match(
        r"sla-check +every 2 min +next run: at start-up, then every 2 min ", jobs["sla-check"]
    )
    assert re.match(r"deliver-outbox +every 15 s +next run: at start-up", jobs["deliver-outbox"])
    last_line = result.stdout.splitlines()[-1]
    assert last_line == "next SLA warning or breach falls due at 2026-11-23 09:45 UTC"
