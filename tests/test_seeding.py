"""`python -m bot seed`: demo cases behave like cases the desk lived through. Their SLA clocks
run and hold what the desk itself would compute, the alerts of their past are behind them and
the next ones fall due as time goes on, and their numbers follow the time they were opened."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import sla_desk, sla_desk_yaml
from helpers import run_bot
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db import Database
from bot.desk import DeskConfig
from bot.runtime.casedesk import Casedesk
from bot.seed import seed_cases
from bot.sla.timers import SlaTracker
from models import Case, CaseAction, CaseEvent, CaseStatus

# Support counts office hours in Berlin, P1 around the clock and escalates when it breaches;
# billing has no targets (its cases are measured all the same).
SEED_SLA_YAML = """
sla:
  teams:
    support:
      default: {first_response: 1h, resolution: 8h, calendar: office}
      p1: {first_response: 15m, resolution: 2h, calendar: 24x7, on_breach: escalate}
"""
SLA_FIELDS = (
    "first_response_due_at",
    "first_response_warn_at",
    "resolution_due_at",
    "resolution_warn_at",
    "sla_next_check_at",
    "first_response_seconds",
    "first_response_breached",
    "resolution_seconds",
    "resolution_breached",
    "first_response_settled_at",
    "resolution_settled_at",
)


@pytest.fixture(name="desk_config")
def desk_config_fixture() -> DeskConfig:
    return sla_desk(SEED_SLA_YAML, source="seed test desk")


def seed_a_week(db: Database, desk: DeskConfig, clock: ManualClock, cases: int = 300) -> None:
    assert seed_cases(db, desk, clock, cases=cases, days=7) == cases


def sla_fields(case: Case) -> tuple[Any, ...]:
    return (case.id, *(getattr(case, name) for name in SLA_FIELDS))


def test_seeded_cases_hold_the_sla_times_the_desk_itself_computes_from_their_history(
    database: Database, desk_config: DeskConfig, clock: ManualClock, sla_tracker: SlaTracker
) -> None:
    seed_a_week(database, desk_config, clock)

    with database.read_only() as session:
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        as_seeded = [sla_fields(case) for case in cases]
        running = [
            (case.status, case.resolution_due_at, case.sla_next_check_at)
            for case in cases
            if case.team_key == "support" and case.status is not CaseStatus.CLOSED
        ]
        for case in cases:
            sla_tracker.refresh(session, case, clock.now())
        as_the_desk_computes = [sla_fields(case) for case in cases]
        session.rollback()

    assert as_seeded == as_the_desk_computes
    assert running, "a week of cases leaves some open"
    for status, resolution_due, next_check in running:
        assert resolution_due is not None or status is CaseStatus.PENDING
        assert next_check is None or next_check > clock.now()


def test_after_seeding_the_sla_check_alerts_only_what_falls_due_from_then_on(
    casedesk: Casedesk, clock: ManualClock
) -> None:
    seed_a_week(casedesk.db, casedesk.desk, clock)

    right_away = casedesk.sla_check.run()
    with casedesk.db.read_only() as session:
        due = session.scalars(
            select(Case.sla_next_check_at)
            .where(Case.sla_next_check_at.is_not(None))
            .order_by(Case.sla_next_check_at)
        ).first()
    assert due is not None, "an open case's next warning or breach is scheduled"
    clock.set(due)
    when_it_falls_due = casedesk.sla_check.run()

    assert str(right_away) == "0 warning(s), 0 breach(es)"  # the past was alerted in its time
    assert when_it_falls_due.warnings + when_it_falls_due.breaches >= 1


def test_case_numbers_follow_the_time_each_case_was_opened(
    database: Database, desk_config: DeskConfig, clock: ManualClock
) -> None:
    seed_a_week(database, desk_config, clock)

    with database.read_only() as session:
        opened = list(session.scalars(select(Case.opened_at).order_by(Case.id)))
        events = session.execute(
            select(CaseEvent.case_id, CaseEvent.at).order_by(CaseEvent.case_id, CaseEvent.id)
        ).all()

    assert len(opened) == 300
    assert opened == sorted(opened)
    assert events == sorted(events)  # and each case's events are numbered in time order


def test_a_p1_answered_late_was_escalated_by_the_desk_when_it_breached(
    database: Database, desk_config: DeskConfig, clock: ManualClock
) -> None:
    seed_a_week(database, desk_config, clock)

    with database.read_only() as session:
        by_the_desk = session.execute(
            select(CaseEvent.case_id, CaseEvent.action, CaseEvent.at)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.priority == "p1", Case.team_key == "support")
            .where(CaseEvent.actor_id == "scheduler")
            .where(CaseEvent.action.in_([CaseAction.SLA_BREACHED, CaseAction.ESCALATED]))
            .order_by(CaseEvent.id)
        ).all()
        levels = dict(session.execute(select(Case.id, Case.escalation_level)).all())

    breaches = [(case, at) for case, action, at in by_the_desk if action is CaseAction.SLA_BREACHED]
    escalations = [(case, at) for case, action, at in by_the_desk if action is CaseAction.ESCALATED]
    assert breaches, "some urgent cases of a week are answered after 15 minutes"
    assert escalations == breaches
    assert all(levels[case] >= 1 for case, _ in escalations)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_same_seed_gives_the_same_demo_history(
    database: Database,
    desk_config: DeskConfig,
    clock: ManualClock,
    sqlite_template: Path,
    tmp_path: Path,
) -> None:
    shutil.copy(sqlite_template, tmp_path / "again.db")
    again = Database(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        for db in (database, again):
            seed_a_week(db, desk_config, clock, cases=100)
        histories = [_history(db) for db in (database, again)]
    finally:
        again.dispose()

    assert histories[0] == histories[1]


def _history(db: Database) -> list[tuple[Any, ...]]:
    with db.read_only() as session:
        cases = session.execute(select(Case.__table__).order_by(Case.id)).all()
        events = session.execute(select(CaseEvent.__table__).order_by(CaseEvent.id))
        return [*cases, *events.all()]


def test_jobs_after_seed_says_when_the_next_sla_warning_or_breach_falls_due(
    tmp_path: Path, sqlite_template: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "casedesk.db")
    config = tmp_path / "app.yaml"
    config.write_text(sla_desk_yaml(SEED_SLA_YAML), encoding="utf-8")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'casedesk.db'}", "SUPPORT_CONFIG": str(config)}

    seeded = run_bot("seed", "--cases", "200", "--days", "7", cwd=tmp_path, **env)
    started = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
    jobs = run_bot("jobs", cwd=tmp_path, **env)

    assert seeded.returncode == 0, seeded.stderr
    assert jobs.returncode == 0, jobs.stderr
    found = re.search(r"next SLA warning or breach falls due at (\S+ \S+) UTC", jobs.stdout)
    assert found, jobs.stdout
    assert datetime.fromisoformat(found.group(1)) >= started
