"""`python -m bot seed`: fill the database with realistic case histories, for demos and
benchmarks.

Each case gets a believable life (opened, claimed, first reply, sometimes pending, escalated
or reopened, usually closed, sometimes rated), and then goes through the same timing code as
a live case: the app's `SlaTracker.refresh_from` replays its history and stores its SLA due and
warning times and its measured first response and resolution. The warnings and breaches whose
moment has passed are decided as the sla-check job would have decided them while it ran (the
decided alert, the audit event, the escalation of `on_breach: escalate`), so what is still to
come is what the scheduler will warn about next, and `sla_next_check_at` points at it.

Opening moments are drawn first and put in time order, so case numbers follow time. Times are
spread over the last D days before the clock's now, denser on weekdays and in working hours.
The same seed gives the same history. Rows are written straight to the tables in batches.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from bot.clock import Clock
from bot.db import Database
from bot.desk import DeskConfig
from bot.seed_lives import SCHEDULER, Life, live, transient
from bot.sla.policies import SlaPolicies, SlaPolicy, Timer
from bot.sla.timers import BREACH, WARN, AlertKey, SlaTracker
from models import (
    Base,
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    CsatResponse,
    EventSource,
    SlaAlert,
)

BATCH = 5000


@dataclass
class _Batch:
    cases: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)


def seed_cases(
    db: Database,
    desk: DeskConfig,
    clock: Clock,
    *,
    cases: int,
    days: int,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert `cases` cases over the last `days` days; returns how many were written."""
    rng = random.Random(seed)
    now = clock.now()
    tracker = SlaTracker(SlaPolicies(desk.sla, desk.calendars))
    with db.read_only() as session:
        next_id = int(session.scalar(select(func.max(Case.id))) or 0) + 1
        next_event = int(session.scalar(select(func.max(CaseEvent.id))) or 0) + 1
    teams = list(desk.teams.values())
    batch = _Batch()
    openings = _opening_moments(rng, now - timedelta(days=days), now, cases)
    for number, opened in enumerate(openings, start=next_id):
        life = live(rng, number, opened, rng.choice(teams), now)
        next_event = _settle(batch, life, tracker, next_event)
        if len(batch.cases) >= BATCH:
            _flush(db, batch)
            batch = _Batch()
            if progress:
                progress(number - next_id + 1)
    _flush(db, batch)
    _advance_id_sequences(db)
    return cases


def _advance_id_sequences(db: Database) -> None:
    """Seeding writes explicit ids; PostgreSQL's sequences must then move past them, or the
    next case opened would collide with a seeded one. SQLite needs nothing."""
    if db.is_sqlite:
        return
    with db.unit_of_work() as session:
        for table in ("cases", "case_events"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )


def _opening_moments(
    rng: random.Random, start: datetime, end: datetime, count: int
) -> Iterator[datetime]:
    """`count` moments between `start` and `end`, in time order (one float each until then),
    three times likelier on weekdays between 08:00 and 18:00 UTC."""
    span = (end - start).total_seconds()
    offsets: list[float] = []
    for _ in range(count):
        for _attempt in range(10):
            offset = rng.random() * span
            moment = start + timedelta(seconds=offset)
            if (moment.weekday() < 5 and 8 <= moment.hour < 18) or rng.random() < 0.33:
                break
        offsets.append(offset)
    offsets.sort()
    return (start + timedelta(seconds=offset) for offset in offsets)


# The case as the app stores it: its clocks, the alerts they raised, its events in order


def _settle(batch: _Batch, life: Life, tracker: SlaTracker, event_id: int) -> int:
    """Store the case as a live one would be: the alerts its clocks raised decided as the
    sla-check decides them, its clocks and measurements stored by the app's tracker, its
    events numbered in time order from `event_id`. Returns the next free event id. The
    tracker is handed the history and the decided alerts (`refresh_from`): reading them back
    (two queries per case) would make seeding about four times slower."""
    case, now = life.case, life.now
    lived = [transient(CaseEvent, **row) for row in _event_rows(life, event_id)]
    timers = tracker.timers_from(case, lived, now)
    decided = _decide_alerts(batch, life, timers, tracker.policy_for(case))
    rows = _event_rows(life, event_id)
    tracker.refresh_from(case, [transient(CaseEvent, **row) for row in rows], decided, now)
    escalations = [row for row in rows if row["action"] is CaseAction.ESCALATED]
    case.escalation_level = len(escalations)
    case.last_escalated_at = escalations[-1]["at"] if escalations else None
    batch.events += rows
    batch.cases.append({column: getattr(case, column) for column in _CASE_COLUMNS})
    batch.ratings += [_rating_row(life, rating, answered) for rating, answered in life.ratings]
    return event_id + len(rows)


def _decide_alerts(
    batch: _Batch, life: Life, timers: dict[str, Timer], policy: SlaPolicy | None
) -> set[AlertKey]:
    """The warnings and breaches the sla-check would have decided by now, each under its key
    (target, kind, due time) and in the audit trail; a breach escalates the case where the
    policy says `on_breach: escalate`. Returns the keys decided."""
    decided: set[AlertKey] = set()
    if policy is None:
        return decided
    for target, timer in timers.items():
        for kind, moment, due_at in _alert_moments(timer, policy):
            action = CaseAction.SLA_WARNING if kind == WARN else CaseAction.SLA_BREACHED
            if not life.happen(moment, SCHEDULER, action, target=target, due_at=due_at.isoformat()):
                continue
            decided.add((target, kind, due_at))
            batch.alerts.append(
                {
                    "case_id": life.case.id,
                    "target": target,
                    "kind": kind,
                    "due_at": due_at,
                    "decided_at": moment,
                }
            )
            if kind == BREACH and policy.on_breach == "escalate":
                life.happen(
                    moment,
                    SCHEDULER,
                    CaseAction.ESCALATED,
                    breached=target,  # data: which target, as bot/sla/check.py records it
                    from_team=life.team.key,
                )
    return decided


def _alert_moments(timer: Timer, policy: SlaPolicy) -> list[tuple[str, datetime, datetime]]:
    """(kind, moment, due time) of the warning and the breach the timer reached, or will: a
    target met after its warning was due at the time the warning was decided."""
    moments = []
    if timer.warn_at is not None:
        left = timer.budget - timer.budget * policy.warn_at
        due_at = timer.due_at or policy.calendar.add(timer.warn_at, left)
        if timer.warn_at < due_at:
            moments.append((WARN, timer.warn_at, due_at))
    if timer.due_at is not None:
        moments.append((BREACH, timer.due_at, timer.due_at))
    return moments


def _event_rows(life: Life, first_id: int) -> list[dict[str, Any]]:
    """The case's events as rows, in time order, numbered from `first_id`. Only an event that
    changed the status records its status before and after; escalations count their level."""
    rows = []
    status_before, level = CaseStatus.OPEN, 0
    ordered = sorted(enumerate(life.events), key=lambda item: (item[1][0], item[0]))
    for event_id, (_, (at, actor, action, status_after, details)) in enumerate(ordered, first_id):
        changed = status_after is not None and status_after != status_before
        row = {
            "id": event_id,
            "case_id": life.case.id,
            "team_key": life.team.key,
            "at": at,
            "actor_id": actor,
            "action": action,
            "source": EventSource.SCHEDULER if actor == SCHEDULER else EventSource.COMMAND,
            "from_value": None,
            "to_value": None,
            "status_before": status_before.value if changed else None,
            "status_after": status_after.value if changed and status_after else None,
            "details": details,
        }
        if action is CaseAction.ESCALATED:
            row.update(from_value=str(level), to_value=str(level + 1))
            level += 1
        if changed and status_after is not None:
            status_before = status_after
        rows.append(row)
    return rows


def _rating_row(life: Life, rating: int, answered: datetime) -> dict[str, Any]:
    return {
        "case_id": life.case.id,
        "team_key": life.team.key,
        "requester_id": life.case.requester_id,
        "rating": rating,
        "comment": None,
        "answered_at": answered,
        "updated_at": answered,
    }


_TABLES = Base.metadata.tables
_CASE_COLUMNS = [column.key for column in _TABLES[Case.__tablename__].columns]


def _flush(db: Database, batch: _Batch) -> None:
    if not batch.cases:
        return
    # Core inserts (one multi-row INSERT per few hundred rows), not the ORM's bulk insert,
    # which splits the batch into a statement per differing set of values and is ~10x slower.
    with db.engine.begin() as connection:
        connection.execute(insert(_TABLES[Case.__tablename__]), batch.cases)
        connection.execute(insert(_TABLES[CaseEvent.__tablename__]), batch.events)
        for model, rows in ((CsatResponse, batch.ratings), (SlaAlert, batch.alerts)):
            if rows:
                connection.execute(insert(_TABLES[model.__tablename__]), rows)
