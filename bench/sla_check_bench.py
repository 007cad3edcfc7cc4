"""Benchmark: one `sla-check` pass over a large desk.

Seeds 1,000,000 cases (100,000 open) and times a pass when nothing is due and when 1,000 cases
are due, on SQLite and (when a URL is given) PostgreSQL, and prints the query plan of the due
query. Target: under 100 ms for the nothing-due pass over 100k open cases (it must be an index
range scan, not a scan of the open cases).

    .venv/bin/python bench/sla_check_bench.py                     # SQLite only
    .venv/bin/python bench/sla_check_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/sla_check_bench.py --total 100000 --open 10000   # a quick run
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness
from sqlalchemy import insert, select, update

from bot import migrate
from bot.cases.rules import CaseService
from bot.cases.sync import CaseSync
from bot.clock import ManualClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.roster import Roster
from bot.sla.check import SlaCheck
from bot.sla.policies import SlaPolicies
from bot.sla.timers import SlaTracker
from models import Case

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DESK = """
default_team: support
teams:
  support: {name: Support, channel: C0SUPPORT, agents: [U0AGENT1]}
sla:
  teams:
    support:
      default: {first_response: 1h, resolution: 3d, calendar: 24x7}
"""
BATCH = 20_000


class NoGroups:
    def usergroup_members(self, group_id: str) -> list[str]:
        return []


def seed(db: Database, *, total: int, open_cases: int) -> None:
    """Closed history plus open cases whose SLA moments lie in the next days."""
    rng = random.Random(42)
    rows = []
    for number in range(1, total + 1):
        is_open = number > total - open_cases
        opened = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        row: dict[str, Any] = {
            "id": number,
            "title": f"Case {number}",
            "description": "",
            "team_key": "support",
            "priority": "p3",
            "status": "in_progress" if is_open else "closed",
            "requester_id": "U0REQ",
            "escalation_level": 0,
            "reopen_count": 0,
            "opened_at": opened,
            "last_activity_at": opened,
            "closed_at": None if is_open else opened + timedelta(hours=5),
            "sla_next_check_at": None,
        }
        if is_open:
            row["opened_at"] = NOW - timedelta(minutes=30)
            row["resolution_due_at"] = NOW + timedelta(minutes=rng.randint(60, 60 * 24 * 5))
            row["sla_next_check_at"] = row["resolution_due_at"] - timedelta(hours=12)
            row["sla_next_check_at"] = max(row["sla_next_check_at"], NOW + timedelta(minutes=5))
        rows.append(row)
        if len(rows) == BATCH:
            _insert(db, rows)
            rows = []
    if rows:
        _insert(db, rows)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _insert(db: Database, rows: list[dict[str, Any]]) -> None:
    with db.engine.begin() as connection:
        connection.execute(insert(Case), rows)


def make_due(db: Database, count: int) -> None:
    """`count` open cases whose first response is overdue: each owes one breach alert."""
    with db.engine.begin() as connection:
        ids = (
            connection.execute(
                select(Case.id).where(Case.status == "in_progress").order_by(Case.id).limit(count)
            )
            .scalars()
            .all()
        )
        opened = NOW - timedelta(hours=2)
        for case_id in ids:
            connection.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(
                    opened_at=opened,
                    first_response_due_at=opened + timedelta(hours=1),
                    first_response_warn_at=opened + timedelta(minutes=45),
                    sla_next_check_at=opened + timedelta(minutes=45),
                )
            )


def build_check(db: Database) -> SlaCheck:
    desk = parse_desk_config(DESK)
    clock = ManualClock(NOW)
    roster = Roster(desk, NoGroups(), clock)
    tracker = SlaTracker(SlaPolicies(desk.sla, desk.calendars))
    cases = CaseService(desk, roster, clock, tracker)
    cards = CaseSync(desk=desk, clock=clock, cases=cases, sla=tracker)
    return SlaCheck(
        db=db,
        desk=desk,
        cases=cases,
        tracker=tracker,
        roster=roster,
        clock=clock,
        digest_threshold=5,
        cards=cards,
    )


def explain(db: Database) -> str:
    query = select(Case.id).where(Case.sla_next_check_at <= NOW).order_by(Case.sla_next_check_at)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN ANALYZE "
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + str(compiled)).all()
    return "\n".join("    " + " ".join(str(part) for part in row) for row in rows)


def time_pass(check: SlaCheck, repeats: int) -> tuple[float, str]:
    timings = []
    report = ""
    for _ in range(repeats):
        started = time.perf_counter()
        report = str(check.run())
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), report


def bench(label: str, db: Database, args: argparse.Namespace) -> None:
    migrate.upgrade(db)
    started = time.perf_counter()
    seed(db, total=args.total, open_cases=args.open)
    seconds = time.perf_counter() - started
    print(f"[{label}] seeded {args.total:,} cases ({args.open:,} open) in {seconds:.1f} s")
    check = build_check(db)
    idle_ms, report = time_pass(check, repeats=5)
    print(f"[{label}] nothing due:   {idle_ms:8.1f} ms per pass (median of 5)  -> {report}")
    print(f"[{label}] plan of the due query:\n{explain(db)}")
    make_due(db, args.due)
    due_ms, report = time_pass(check, repeats=1)
    print(f"[{label}] {args.due:,} due: {due_ms:10.1f} ms for the pass  -> {report}")
    verdict = "meets" if idle_ms < 100 else "MISSES"
    print(f"[{label}] target < 100 ms with nothing due: {verdict}")


def main() -> None:
    options = harness.parser(__doc__)
    options.add_argument("--total", type=int, default=1_000_000)
    options.add_argument("--open", type=int, default=100_000)
    options.add_argument("--due", type=int, default=1_000)
    args = options.parse_args()
    harness.on_each_database(args, lambda label, db: bench(label, db, args))


if __name__ == "__main__":
    main()
