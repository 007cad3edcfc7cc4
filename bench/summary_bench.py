"""Benchmark: the daily summary of one team over a large history.

Seeds realistic case histories (`python -m bot seed` does the same) and times building the daily
summary (all KPI queries, backlog, agents, the 14-day chart) for one team, on SQLite and (when
a URL is given) PostgreSQL. Prints the total, the slowest queries and their plans.
Target: under 2 s on PostgreSQL with 1,000,000 cases.

    .venv/bin/python bench/summary_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/summary_bench.py --cases 100000          # a quicker run
    # seed once into a kept schema, then re-time in seconds:
    .venv/bin/python bench/summary_bench.py --skip-sqlite --keep casedesk_bench_1m --postgres …
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness
from sqlalchemy import event

from bot import migrate
from bot.clock import ManualClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.metrics.summaries import DAILY, SummaryService
from bot.metrics.views import period_label
from bot.roster import Roster
from bot.seed import seed_cases
from bot.sla.policies import SlaPolicies

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DESK = """
default_team: support
teams:
  support:
    {name: Support, channel: C0SUPPORT, agents: [U0AGENT1, U0AGENT2, U0AGENT3], managers: [U0MGR]}
  billing: {name: Billing, channel: C0BILLING, agents: [U0BILLING1, U0BILLING2]}
calendars:
  office: {timezone: Europe/Berlin, hours: {weekdays: ["09:00-17:00"]}}
sla:
  teams:
    support: {default: {first_response: 4h, resolution: 24h, calendar: office}}
"""


class NoGroups:
    def usergroup_members(self, group_id: str) -> list[str]:
        return []


@dataclass(frozen=True)
class Timed:
    milliseconds: float
    statement: str
    parameters: Any


@contextmanager
def query_timer(db: Database) -> Iterator[list[Timed]]:
    """Record every statement run inside the block, with its parameters and duration."""
    timings: list[Timed] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        elapsed = (time.perf_counter() - conn.info.pop("started")) * 1000
        timings.append(Timed(elapsed, statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        yield timings
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)


def bench(label: str, db: Database, args: argparse.Namespace) -> None:
    migrate.upgrade(db)
    desk = parse_desk_config(DESK)
    clock = ManualClock(NOW)
    if harness.already_seeded(db, args.cases):
        print(f"[{label}] reusing the {args.cases:,} cases seeded by an earlier run")
    else:
        started = time.perf_counter()
        seed_cases(db, desk, clock, cases=args.cases, days=args.days)
        seconds = time.perf_counter() - started
        print(f"[{label}] seeded {args.cases:,} cases over {args.days} days in {seconds:.0f} s")
    harness.vacuum_analyze(db)
    service = SummaryService(
        db=db,
        desk=desk,
        roster=Roster(desk, NoGroups(), clock),
        policies=SlaPolicies(desk.sla, desk.calendars),
        clock=clock,
    )
    team = desk.team("support")
    period = service.due_period(team, DAILY)
    # Warm up once, as a running process would be (imports, compiled statements, caches).
    service._chart_file(service.report(team, period), period)
    with query_timer(db) as timings:
        started = time.perf_counter()
        report = service.report(team, period)
        chart = service._chart_file(report, period)  # the 14-day series and the PNG
        total = time.perf_counter() - started
    print(
        f"[{label}] daily summary of {team.name} for {period_label(period)}: {total * 1000:.0f} ms "
        f"({len(timings)} queries, {sum(timed.milliseconds for timed in timings):.0f} ms in SQL; "
        f"{report.current.opened} new, {report.current.resolved} resolved; "
        f"chart {len(chart['content_b64']) * 3 // 4:,} bytes)"
    )
    verdict = "meets" if total < 2 else "MISSES"
    print(f"[{label}] target < 2 s: {verdict}")
    slowest = sorted(timings, key=lambda timed: -timed.milliseconds)[: args.plans]
    for timed in slowest:
        statement = " ".join(timed.statement.split())
        print(f"[{label}] slow query {timed.milliseconds:.0f} ms: {statement[:200]}…")
    print_plans(label, db, slowest)


def print_plans(label: str, db: Database, slowest: list[Timed]) -> None:
    """The measured plans (EXPLAIN ANALYZE on PostgreSQL) of the slowest queries."""
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    for timed in slowest:
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + timed.statement, timed.parameters).all()
        plan = "\n".join("    " + " ".join(str(part) for part in row) for row in rows)
        print(f"[{label}] plan of the {timed.milliseconds:.0f} ms query:\n{plan}")


def main() -> None:
    options = harness.parser(__doc__)
    options.add_argument("--cases", type=int, default=1_000_000)
    options.add_argument("--days", type=int, default=365)
    options.add_argument("--plans", type=int, default=3, help="print the plans of the N slowest")
    args = options.parse_args()
    harness.on_each_database(args, lambda label, db: bench(label, db, args))


if __name__ == "__main__":
    main()
