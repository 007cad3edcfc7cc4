"""Benchmark: who gets a new case, over many opens.

(a) Round robin over 10,000 opens (each `CaseService.open` and `Routing.route_new` in one unit
    of work, as every path that opens a case does) in a team of 7 agents with `max_open: 5`.
    In the middle third one agent is away and another keeps every case they get (so they reach
    `max_open` and are skipped); everyone else's cases are closed as they come, as agents work
    them. Prints each agent's count per third and overall, and the spread (max - min) among
    the agents available throughout. Target: within one case of even.
(b) The time an open takes without routing (a `manual` team) and with it (a `round_robin` team
    with `max_open`, one agent away), alternated open by open on the same database (after (a):
    10,000 cases of history): median and 99th percentile of each, and what routing adds.
    Target: under 5 ms on PostgreSQL.

    .venv/bin/python bench/routing_bench.py                     # SQLite only
    .venv/bin/python bench/routing_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/routing_bench.py --opens 1000 --timed 200   # a quick run
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import harness
from sqlalchemy import func, select, update

from bot import migrate
from bot.cases.changes import Actor
from bot.cases.rules import CaseService
from bot.clock import ManualClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.roster import Roster
from bot.routing.rules import Routing
from bot.sla.policies import SlaPolicies
from bot.sla.timers import SlaTracker
from models import OPEN_STATUSES, Case, CaseAction, CaseEvent, CaseStatus, EventSource

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENTS = [f"U0AGENT{n}" for n in range(1, 8)]
AWAY, FULL = AGENTS[6], AGENTS[5]  # in the middle third: away, and keeping their cases
MAX_OPEN = 5
DESK = f"""
default_team: routed
teams:
  routed:
    name: Routed
    channel: C0ROUTED
    agents: [{", ".join(AGENTS)}]
    managers: [U0MANAGER]
    assignment: {{mode: round_robin, max_open: {MAX_OPEN}}}
  manual:
    name: Manual
    channel: C0MANUAL
    agents: [{", ".join(AGENTS)}]
    managers: [U0MANAGER]
"""
PARTS = ("first third", "middle third", "last third")


class _NoGroups:
    def usergroup_members(self, group_id: str) -> list[str]:
        return []


@dataclass
class Desk:
    """What an open goes through: the case rules and the routing, on a clock of its own."""

    db: Database
    clock: ManualClock
    cases: CaseService
    routing: Routing

    @classmethod
    def build(cls, db: Database) -> Desk:
        desk = parse_desk_config(DESK, source="routing bench desk")
        clock = ManualClock(NOW)
        roster = Roster(desk, _NoGroups(), clock)
        cases = CaseService(desk, roster, clock, SlaTracker(SlaPolicies(desk.sla, desk.calendars)))
        return cls(db, clock, cases, Routing(desk, roster, cases, clock))

    def open(self, team_key: str, number: int) -> tuple[int, str | None, float]:
        """Open (and route) one case in one unit of work: its number, assignee and seconds."""
        self.clock.advance(timedelta(seconds=1))
        actor = Actor(f"U0REQ{number % 97}", EventSource.COMMAND)
        started = time.perf_counter()
        with self.db.unit_of_work() as session:
            change = self.cases.open(
                session, actor=actor, title=f"Printer {number}", team_key=team_key
            )
            change = self.routing.route_new(session, change)
            case_id, assignee = change.case.id, change.case.assignee_id
        return case_id, assignee, time.perf_counter() - started

    def close(self, *case_ids: int) -> None:
        """The agents worked these cases: closed (straight in the table, nothing timed)."""
        with self.db.unit_of_work() as session:
            session.execute(
                update(Case)
                .where(Case.id.in_(case_ids))
                .values(status=CaseStatus.CLOSED, closed_at=self.clock.now())
            )

    def set_away(self, agent: str, away: bool) -> None:
        with self.db.unit_of_work() as session:
            if away:
                self.routing.set_away(session, agent, None)
            else:
                self.routing.set_back(session, agent)


def round_robin(desk: Desk, opens: int) -> tuple[list[Counter[str]], int]:
    """(a): each third's assignments per agent, and how many cases found nobody."""
    parts: list[Counter[str]] = [Counter() for _ in PARTS]
    kept: list[int] = []
    middle, last = opens // 3, 2 * opens // 3
    for number in range(opens):
        part = 0 if number < middle else 1 if number < last else 2
        if number == middle:
            desk.set_away(AWAY, True)
        if number == last:  # back, and the kept cases worked
            desk.set_away(AWAY, False)
            desk.close(*kept)
            kept = []
        case_id, assignee, _ = desk.open("routed", number)
        if assignee is None:
            continue
        parts[part][assignee] += 1
        if part == 1 and assignee == FULL:
            kept.append(case_id)
        else:
            desk.close(case_id)
    with desk.db.read_only() as session:
        nobody = session.scalar(
            select(func.count()).where(CaseEvent.action == CaseAction.NOBODY_AVAILABLE)
        )
    return parts, int(nobody or 0)


def spread(counts: Counter[str], agents: list[str]) -> int:
    shares = [counts[agent] for agent in agents]
    return max(shares) - min(shares)


def report_round_robin(label: str, parts: list[Counter[str]], nobody: int, opens: int) -> None:
    print(
        f"[{label}] (a) round robin over {opens:,} opens, {len(AGENTS)} agents, "
        f"max_open {MAX_OPEN}; in the middle third {AWAY} away and {FULL} keeping their cases"
    )
    print(f"[{label}]     {'':<13}" + "".join(f"{agent[-6:]:>8}" for agent in AGENTS))
    total: Counter[str] = Counter()
    throughout = [agent for agent in AGENTS if agent not in (AWAY, FULL)]
    for name, counts in zip(PARTS, parts, strict=True):
        total.update(counts)
        available = throughout if name == "middle third" else AGENTS
        row = "".join(f"{counts[agent]:>8}" for agent in AGENTS)
        print(
            f"[{label}]     {name:<13}{row}   spread {spread(counts, available)} "
            f"among the {len(available)} available"
        )
    row = "".join(f"{total[agent]:>8}" for agent in AGENTS)
    overall = spread(total, throughout)
    print(
        f"[{label}]     {'overall':<13}{row}   spread {overall} among the {len(throughout)} "
        f"available throughout; {nobody} found nobody"
    )
    worst = max(
        spread(counts, throughout if name == "middle third" else AGENTS)
        for name, counts in zip(PARTS, parts, strict=True)
    )
    verdict = "meets" if max(worst, overall) <= 1 and not nobody else "MISSES"
    print(
        f"[{label}]     {FULL} got {parts[1][FULL]} in the middle third (max_open {MAX_OPEN}), "
        f"{AWAY} {parts[1][AWAY]}; target within one case of even: {verdict}"
    )


def stopwatch(owner: object, method: str, into: list[float]) -> None:
    """Time each call of `owner.method` (milliseconds, into `into`): where routing's time goes."""
    inner: Callable[..., Any] = getattr(owner, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - started) * 1000)

    setattr(owner, method, timed)


def timed_opens(desk: Desk, count: int) -> dict[str, list[float]]:
    """(b): the milliseconds of each open, manual and round robin alternated, and of the two
    halves of routing: choosing the agent (`Routing.pick`) and assigning (`CaseService.route`)."""
    desk.set_away(AWAY, True)  # one agent to skip, as on a real day
    timings: dict[str, list[float]] = {"manual": [], "round_robin": []}
    halves: dict[str, list[float]] = {"pick": [], "route": []}
    stopwatch(desk.routing, "pick", halves["pick"])
    stopwatch(desk.cases, "route", halves["route"])
    teams = {"manual": "manual", "round_robin": "routed"}
    warm_up = 50
    for number in range(warm_up + count):
        for mode, team_key in teams.items():
            case_id, _, seconds = desk.open(team_key, 100_000 + 2 * number + (mode == "manual"))
            desk.close(case_id)
            if number >= warm_up:
                timings[mode].append(seconds * 1000)
    desk.set_away(AWAY, False)
    return timings | {name: values[warm_up:] for name, values in halves.items()}


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.99) - 1, 0)]


def report_timings(label: str, timings: dict[str, list[float]], postgres: bool) -> None:
    manual, routed = timings["manual"], timings["round_robin"]
    print(f"[{label}] (b) an open in one unit of work, {len(manual):,} of each, alternated:")
    names = {
        "manual": "manual",
        "round_robin": "round_robin",
        "pick": "  in it, Routing.pick",  # the turn row locked, who is away, the loads
        "route": "  and CaseService.route",  # the assignment, its event, the SLA refresh
    }
    width = max(len(name) for name in names.values())
    for mode, values in timings.items():
        print(
            f"[{label}]     {names[mode]:<{width}}  median {statistics.median(values):6.2f} ms"
            f"   p99 {p99(values):6.2f} ms"
        )
    added = statistics.median(routed) - statistics.median(manual)
    added_p99 = p99(routed) - p99(manual)
    target = "target under 5 ms at the median on PostgreSQL"
    verdict = f"{target}: {'meets' if added < 5 else 'MISSES'}" if postgres else f"({target})"
    print(
        f"[{label}]     routing adds {added:+.2f} ms at the median, {added_p99:+.2f} ms at the "
        f"p99; {verdict}"
    )


def bench(label: str, db: Database, args: argparse.Namespace) -> None:
    migrate.upgrade(db)
    desk = Desk.build(db)
    started = time.perf_counter()
    parts, nobody = round_robin(desk, args.opens)
    seconds = time.perf_counter() - started
    report_round_robin(label, parts, nobody, args.opens)
    print(f"[{label}]     ({seconds:.1f} s for the opens)")
    with db.read_only() as session:
        still_open = session.scalar(
            select(func.count()).where(Case.status.in_(OPEN_STATUSES), Case.team_key == "routed")
        )
    assert not still_open, f"{still_open} routed cases were left open"
    report_timings(label, timed_opens(desk, args.timed), postgres=not db.is_sqlite)


def main() -> None:
    options = harness.parser(__doc__)
    options.add_argument("--opens", type=int, default=10_000, help="opens for (a)")
    options.add_argument("--timed", type=int, default=1_000, help="timed opens of each mode")
    args = options.parse_args()
    harness.on_each_database(args, lambda label, db: bench(label, db, args))


if __name__ == "__main__":
    main()
