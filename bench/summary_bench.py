"""Benchmark: the daily summary of one team over a large history.

Seeds realistic case histories (`python -m bot seed` does the same) and times building the daily
summary (all KPI queries, backlog, agents, the 14-day chart) for one team, on SQLite and (when
a URL is given) PostgreSQL. Prints the total, the slowest queries and their plans.
Target: under 2 s on PostgreSQL with 1,000,000 cases.

    .venv/bin/python bench/summary_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/summary_bench.py --cases 100000          # a quicker run
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
from bot.roster import Roster
from bot.seed import seed_cases
from bot.sla import SlaPolicies
from bot.summaries import DAILY, SummaryService

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


@contextmanager
def query_timer(db: Database) -> Iterator[list[tuple[float, str]]]:
    """Record (milliseconds, SQL) of every statement run inside the block."""
    timings: list[tuple[float, str]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        timings.append(((time.perf_counter() - conn.info.pop("started")) * 1000, statement))

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
    started = time.perf_counter()
    seed_cases(db, desk, clock, cases=args.cases, days=args.days)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    seconds = time.perf_counter() - started
    print(f"[{label}] seeded {args.cases:,} cases over {args.days} days in {seconds:.0f} s")
    service = SummaryService(
        db=db,
        desk=desk,
        roster=Roster(desk, NoGroups(), clock),
        policies=SlaPolicies(desk.sla, desk.calendars),
        clock=clock,
    )
    team = desk.team("support")
    period = service.due_period(team, DAILY)
    service.report(team, period)  # warm caches once, as a running process would have them
    with query_timer(db) as timings:
        started = time.perf_counter()
        report = service.report(team, period)
        chart = service._chart_file(report, period)  # the 14-day series and the PNG
        total = time.perf_counter() - started
    print(
        f"[{label}] daily summary of {team.name} for {period.label}: {total * 1000:.0f} ms "
        f"({len(timings)} queries, {sum(ms for ms, _ in timings):.0f} ms in SQL; "
        f"{report.current.opened} new, {report.current.resolved} resolved; "
        f"chart {len(chart['content_b64']) * 3 // 4:,} bytes)"
    )
    verdict = "meets" if total < 2 else "MISSES"
    print(f"[{label}] target < 2 s: {verdict}")
    for ms, statement in sorted(timings, reverse=True)[:3]:
        print(f"[{label}] slow query {ms:.0f} ms: {' '.join(statement.split())[:160]}…")
    print_plan(label, db, service, team.key, period)


def print_plan(
    label: str, db: Database, service: SummaryService, team_key: str, period: Any
) -> None:
    """The plan of the backlog query, the heaviest of the summary."""
    from bot import metrics

    captured: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "coalesce" in statement and "status_after" in statement and not captured:
            captured.append(statement)
            captured.append(parameters)

    event.listen(db.engine, "before_cursor_execute", capture)
    with db.read_only() as session:
        metrics.backlog(session, team_key=team_key, at=period.end)
    event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = captured[0], captured[1]
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    plan = "\n".join("    " + " ".join(str(part) for part in row) for row in rows)
    print(f"[{label}] plan of the backlog query:\n{plan}")


def main() -> None:
    options = harness.parser(__doc__)
    options.add_argument("--cases", type=int, default=1_000_000)
    options.add_argument("--days", type=int, default=365)
    args = options.parse_args()
    harness.on_each_database(args, lambda label, db: bench(label, db, args))


if __name__ == "__main__":
    main()
