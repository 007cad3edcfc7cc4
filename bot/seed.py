"""`python -m bot seed`: fill the database with realistic case histories, for demos and
benchmarks.

Each case gets a believable life (opened, claimed, first reply, sometimes pending, escalated
or reopened, usually closed, sometimes rated) written straight to the tables in batches: cases,
their audit events and CSAT answers, with the measured fields the KPIs read. Times are spread
over the last D days before the clock's now, denser on weekdays and in working hours.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from bot.clock import Clock
from bot.db import Database
from bot.desk import DeskConfig
from models import Base, Case, CaseEvent, CsatResponse

BATCH = 5000
TITLES = (
    "Cannot log in",
    "Invoice shows the wrong amount",
    "Export to CSV fails",
    "Password reset email never arrives",
    "App crashes on start",
    "Refund not received",
    "Cannot add a team member",
    "Webhook deliveries time out",
    "Two-factor code rejected",
    "Dashboard is empty",
)


@dataclass
class _Batch:
    cases: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)


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
    with db.read_only() as session:
        next_id = int(session.scalar(select(func.max(Case.id))) or 0) + 1
        next_event = int(session.scalar(select(func.max(CaseEvent.id))) or 0) + 1
    teams = list(desk.teams.values())
    batch = _Batch()
    for number in range(next_id, next_id + cases):
        team = rng.choice(teams)
        agents = [member for member in team.agents + team.managers if not member.startswith("S")]
        agents = agents or ["U0SEEDAGENT"]
        next_event = _life(batch, rng, number, next_event, team.key, agents, now, days)
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


_Event = tuple[datetime, str, str, str | None, dict[str, Any]]


@dataclass
class _Life:
    """One case as its story is written: its row, its events so far, and who plays in it."""

    rng: random.Random
    now: datetime
    number: int
    team_key: str
    requester: str
    agent: str
    opened: datetime
    case: dict[str, Any]
    events: list[_Event] = field(default_factory=list)
    pending_time: timedelta = timedelta(0)

    @property
    def in_progress(self) -> bool:
        return bool(self.case["status"] == "in_progress")

    def happen(
        self, at: datetime, actor: str, action: str, status_after: str | None = None, **details: Any
    ) -> bool:
        """Record an event, unless its moment is yet to come (then it has not happened)."""
        if at >= self.now:
            return False
        self.events.append((at, actor, action, status_after, details))
        return True

    def breach(self, due: datetime, target: str) -> None:
        """The breach alert the SLA check would have raised when the target passed."""
        self.happen(due, "scheduler", "sla_breached", target=target, due_at=due.isoformat())


def _life(
    batch: _Batch,
    rng: random.Random,
    number: int,
    event_id: int,
    team_key: str,
    agents: list[str],
    now: datetime,
    days: int,
) -> int:
    life = _open(rng, number, team_key, agents, now, days)
    moment = _first_reply(life, _claim(life))
    if life.in_progress and rng.random() < 0.25:
        moment = _wait_for_requester(life, moment)
    if life.in_progress and rng.random() < 0.08:
        moment = _escalate(life, moment)
    closed = _closing_moment(rng, moment)
    if (
        life.in_progress
        and rng.random() < 0.995
        and life.happen(closed, life.agent, "closed", "closed", resolution="Fixed")
    ):
        _resolve(batch, life, closed)
    event_id = _write_events(batch, life, event_id)
    batch.cases.append(life.case)
    return event_id


def _open(
    rng: random.Random,
    number: int,
    team_key: str,
    agents: list[str],
    now: datetime,
    days: int,
) -> _Life:
    """The case as its requester opens it, at a working moment of the last `days` days."""
    opened = _working_moment(rng, now - timedelta(days=days), now)
    requester = f"U0CUST{rng.randint(1, 500):04d}"
    agent = rng.choice(agents)
    priority = rng.choices(("p1", "p2", "p3", "p4"), weights=(5, 20, 55, 20))[0]
    case: dict[str, Any] = {
        "id": number,
        "title": rng.choice(TITLES),
        "description": "",
        "team_key": team_key,
        "priority": priority,
        "status": "open",
        "requester_id": requester,
        "escalation_level": 0,
        "reopen_count": 0,
        "opened_at": opened,
        "last_activity_at": opened,
    }
    life = _Life(rng, now, number, team_key, requester, agent, opened, case)
    life.happen(opened, requester, "opened", None)
    return life


def _claim(life: _Life) -> datetime:
    """An agent claims the case (if that moment has come); returns the moment."""
    claimed = life.opened + timedelta(minutes=life.rng.expovariate(1 / 25))
    if life.happen(claimed, life.agent, "claimed", "in_progress"):
        life.case.update(
            status="in_progress",
            assignee_id=life.agent,
            first_assignee_id=life.agent,
            claimed_at=claimed,
        )
        life.case["last_activity_at"] = claimed
    return claimed


def _first_reply(life: _Life, claimed: datetime) -> datetime:
    """The agent's first reply, late (and alerted) after four hours; returns its moment."""
    replied = claimed + timedelta(minutes=life.rng.expovariate(1 / 20))
    if life.in_progress and life.happen(replied, life.agent, "responded", first_response=True):
        case = life.case
        seconds = int((replied - life.opened).total_seconds())
        case.update(
            first_response_at=replied, first_responder_id=life.agent, first_response_seconds=seconds
        )
        case["first_response_breached"] = seconds > 4 * 3600
        case["last_activity_at"] = replied
        if case["first_response_breached"]:
            life.breach(life.opened + timedelta(hours=4), "first_response")
    return replied


def _wait_for_requester(life: _Life, moment: datetime) -> datetime:
    """The case waits on the requester a while, then resumes when they reply; returns the
    moment the story goes on from."""
    moment += timedelta(hours=life.rng.expovariate(1 / 3))
    waited = timedelta(hours=life.rng.expovariate(1 / 10))
    if life.happen(moment, life.agent, "pending", "pending", reason="Waiting for logs"):
        life.case["status"] = "pending"
        if life.happen(
            moment + waited, life.requester, "resumed", "in_progress", cause="requester replied"
        ):
            life.case["status"] = "in_progress"
            life.pending_time = waited
            moment += waited
    return moment


def _escalate(life: _Life, moment: datetime) -> datetime:
    moment += timedelta(hours=life.rng.expovariate(1 / 2))
    if life.happen(moment, life.agent, "escalated", None, reason="Needs engineering"):
        life.case["escalation_level"] = 1
    return moment


def _closing_moment(rng: random.Random, moment: datetime) -> datetime:
    closed = moment + timedelta(hours=rng.expovariate(1 / 6))
    # A few cases linger for weeks; all but a handful are closed within a month, as in a
    # healthy desk (its backlog is days deep, not a year).
    if rng.random() < 0.1:
        closed += timedelta(days=rng.expovariate(1 / 10))
    return closed


def _resolve(batch: _Batch, life: _Life, closed: datetime) -> None:
    """The case closed at `closed`: sometimes reopened, breached if late, then surveyed."""
    _close(life.case, life.agent, closed, life.opened, life.pending_time)
    if life.rng.random() < 0.06:
        _reopen(life, closed)
    if life.case["resolution_breached"]:
        life.breach(life.opened + life.pending_time + timedelta(hours=24), "resolution")
    _survey(batch, life)


def _reopen(life: _Life, closed: datetime) -> None:
    """The requester reopens the closed case; the agent may close it again for good."""
    reopened = closed + timedelta(hours=life.rng.expovariate(1 / 24))
    if not life.happen(reopened, life.requester, "reopened", "in_progress", reason="Still broken"):
        return
    life.case.update(status="in_progress", reopen_count=1, reopened_at=reopened, closed_at=None)
    life.case.update(resolution_seconds=None, resolution_breached=None, closed_by=None)
    again = reopened + timedelta(hours=life.rng.expovariate(1 / 4))
    if life.happen(again, life.agent, "closed", "closed", resolution="Fixed for real"):
        paused = life.pending_time + (reopened - closed)
        _close(life.case, life.agent, again, life.opened, paused)


def _survey(batch: _Batch, life: _Life) -> None:
    """Every closed case is surveyed; about a third of the requesters answer."""
    case = life.case
    if case["status"] != "closed":
        return  # reopened and not closed again yet
    if not life.happen(case["closed_at"], "scheduler", "csat_requested"):
        return
    answered = case["closed_at"] + timedelta(minutes=life.rng.randint(5, 600))
    if life.rng.random() < 0.35 and answered < life.now:
        rating = life.rng.choices((1, 2, 3, 4, 5), weights=(3, 4, 10, 35, 48))[0]
        life.happen(answered, life.requester, "csat_rated", rating=rating)
        batch.ratings.append(
            {
                "case_id": life.number,
                "team_key": life.team_key,
                "requester_id": life.requester,
                "rating": rating,
                "comment": None,
                "answered_at": answered,
                "updated_at": answered,
            }
        )


def _write_events(batch: _Batch, life: _Life, event_id: int) -> int:
    """The case's events as rows, in time order, numbered from `event_id`; returns the next
    free id. Only an event that changed the status records its status before and after."""
    status_before = "open"
    for at, actor, action, status_after, details in sorted(life.events, key=lambda item: item[0]):
        changed = status_after is not None and status_after != status_before
        status_change = (status_before, status_after) if changed else (None, None)
        batch.events.append(_event_row(life, event_id, at, actor, action, status_change, details))
        if changed and status_after is not None:
            status_before = status_after
        event_id += 1
    return event_id


def _event_row(
    life: _Life,
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    status_change: tuple[str | None, str | None],
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": event_id,
        "case_id": life.number,
        "team_key": life.team_key,
        "at": at,
        "actor_id": actor,
        "action": action,
        "source": "scheduler" if actor == "scheduler" else "command",
        "from_value": None,
        "to_value": None,
        "status_before": status_change[0],
        "status_after": status_change[1],
        "details": details,
    }


def _close(
    case: dict[str, Any], agent: str, at: datetime, opened: datetime, pending: timedelta
) -> None:
    seconds = int((at - opened - pending).total_seconds())
    case.update(
        status="closed", closed_at=at, closed_by=agent, resolution="Fixed", last_activity_at=at
    )
    case.update(resolution_seconds=seconds, resolution_breached=seconds > 24 * 3600)


def _working_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment, three times likelier on weekdays between 08:00 and 18:00 UTC."""
    span = (end - start).total_seconds()
    for _ in range(10):
        moment = start + timedelta(seconds=rng.random() * span)
        if (moment.weekday() < 5 and 8 <= moment.hour < 18) or rng.random() < 0.33:
            return moment
    return moment


_TABLES = Base.metadata.tables
_CASE_COLUMNS = [column.key for column in _TABLES[Case.__tablename__].columns]


def _flush(db: Database, batch: _Batch) -> None:
    if not batch.cases:
        return
    rows = [{column: case.get(column) for column in _CASE_COLUMNS} for case in batch.cases]
    # Core inserts (one multi-row INSERT per few hundred rows), not the ORM's bulk insert,
    # which splits the batch into a statement per differing set of values and is ~10x slower.
    with db.engine.begin() as connection:
        connection.execute(insert(_TABLES[Case.__tablename__]), rows)
        connection.execute(insert(_TABLES[CaseEvent.__tablename__]), batch.events)
        if batch.ratings:
            connection.execute(insert(_TABLES[CsatResponse.__tablename__]), batch.ratings)
