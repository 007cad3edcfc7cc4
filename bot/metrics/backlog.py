"""What is open: the backlog as it was at a moment, the oldest open cases, the cases at risk,
and the 14-day series of the summary's chart."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial

from sqlalchemy import (
    CompoundSelect,
    and_,
    case,
    distinct,
    false,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.metrics.kpis import Ratio
from bot.metrics.sql import (
    FIRST_RESPONSE_SLA,
    RESOLUTION_SLA,
    Column,
    Condition,
    SlaTarget,
    events_of,
    for_team,
    within,
)
from models import OPEN_STATUSES, Case, CaseAction, CaseEvent, CaseStatus


def backlog(session: Session, *, team_key: str, at: datetime) -> dict[tuple[str, str], int]:
    """Cases not closed at `at`, by (status, priority) as they were then, from the history.

    Only cases that can have been open at `at` are looked at: opened before it, and either not
    closed now or closed (for the last time) after it; a case closed for good before `at` was
    closed then. For each, its last status change and its priority changes around `at` are
    read through the (case, time) index, so the long closed history is never scanned."""
    events = aliased(CaseEvent)
    status_then = (
        select(events.status_after)
        .where(events.case_id == Case.id, events.status_after.is_not(None), events.at < at)
        .order_by(events.at.desc(), events.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    priority_change = events.action == CaseAction.PRIORITY_CHANGED
    priority_set_before = (
        select(events.to_value)
        .where(events.case_id == Case.id, priority_change, events.at < at)
        .order_by(events.at.desc(), events.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    priority_changed_after = (
        select(events.from_value)
        .where(events.case_id == Case.id, priority_change, events.at >= at)
        .order_by(events.at, events.id)
        .limit(1)
        .scalar_subquery()
    )
    then = (
        select(
            func.coalesce(status_then, CaseStatus.OPEN.value).label("status"),
            func.coalesce(priority_set_before, priority_changed_after, Case.priority).label(
                "priority"
            ),
        )
        .where(Case.id.in_(_maybe_open_at(team_key, at)), Case.opened_at < at)
        .subquery()
    )
    rows = session.execute(
        select(then.c.status, then.c.priority, func.count())
        .where(then.c.status != CaseStatus.CLOSED.value)
        .group_by(then.c.status, then.c.priority)
    ).all()
    return {(str(state), str(priority)): int(count) for state, priority, count in rows}


def _maybe_open_at(team_key: str, at: datetime) -> CompoundSelect[tuple[int]]:
    """The team's cases that may have been open at `at`: those open now and those closed (for
    the last time) since; the caller keeps those opened before `at`. Two index ranges, as a
    union: written as one OR, SQLite would scan every case the team ever opened."""
    return union_all(
        select(Case.id).where(for_team(team_key), Case.status.in_(OPEN_STATUSES)),
        select(Case.id).where(
            for_team(team_key), Case.status == CaseStatus.CLOSED, Case.closed_at >= at
        ),
    )


def oldest_open(session: Session, *, team_key: str, limit: int = 5) -> list[Case]:
    return list(
        session.scalars(
            select(Case)
            .where(for_team(team_key), Case.status.in_(OPEN_STATUSES))
            .order_by(Case.opened_at, Case.id)
            .limit(limit)
        )
    )


def at_risk(
    session: Session,
    *,
    team_key: str,
    horizon: datetime | Mapping[str, datetime],
    limit: int = 10,
) -> list[Case]:
    """Open cases with a running SLA timer due before `horizon`, soonest first. The horizon
    may differ by priority (4 business hours end later on an office calendar than on 24x7)."""

    def due_before(moment: datetime) -> Condition:
        return or_(Case.first_response_due_at < moment, Case.resolution_due_at < moment)

    if isinstance(horizon, datetime):
        due = due_before(horizon)
    else:
        # A priority the mapping does not name (dropped from app.yaml since) gets the
        # furthest horizon rather than vanishing from the list.
        furthest = max(horizon.values(), default=None)
        due = or_(
            false(),
            *(and_(Case.priority == key, due_before(moment)) for key, moment in horizon.items()),
            and_(Case.priority.not_in(list(horizon)), due_before(furthest))
            if furthest
            else false(),
        )
    soonest = case(
        (
            and_(
                Case.first_response_due_at.is_not(None),
                or_(
                    Case.resolution_due_at.is_(None),
                    Case.first_response_due_at <= Case.resolution_due_at,
                ),
            ),
            Case.first_response_due_at,
        ),
        else_=Case.resolution_due_at,
    )
    return list(
        session.scalars(
            select(Case)
            .where(
                for_team(team_key),
                Case.status.in_(OPEN_STATUSES),
                due,
            )
            .order_by(soonest, Case.id)
            .limit(limit)
        )
    )


def daily_counts(
    session: Session,
    *,
    team_key: str,
    days: list[tuple[datetime, datetime]],
    until: datetime,
) -> list[tuple[int, int, Ratio]]:
    """(opened, resolved, SLA attainment of both targets) for each [start, end) in `days`, as
    far as is known by `until` (now): the same definitions as `team_kpis`.

    Four queries whatever the number of days: each counts every day at once with FILTER
    clauses, over the one index range that spans all the days (the counts of opened cases and
    of closed ones read nothing but that index)."""
    if not days:
        return []
    span = (days[0][0], days[-1][1])
    per_day = partial(_per_day, session, days, span)
    [opened] = per_day(CaseEvent.at, [true()], events_of(team_key, CaseAction.OPENED))
    [resolved] = per_day(
        CaseEvent.at,
        [true()],
        events_of(team_key, CaseAction.CLOSED),
        count=lambda test: func.count(distinct(CaseEvent.case_id)).filter(test),
    )
    sla = [
        per_day(target.settled_at, [target.met, true()], _counted(team_key, target, span, until))
        for target in (FIRST_RESPONSE_SLA, RESOLUTION_SLA)
    ]
    (first_met, first_counted), (final_met, final_counted) = sla
    return [
        (
            opened[day],
            resolved[day],
            Ratio(first_met[day] + final_met[day], first_counted[day] + final_counted[day]),
        )
        for day in range(len(days))
    ]


def _counted(
    team_key: str, target: SlaTarget, span: tuple[datetime, datetime], until: datetime
) -> Condition:
    return and_(for_team(team_key), target.counted(*span, until))


def _per_day(
    session: Session,
    days: list[tuple[datetime, datetime]],
    span: tuple[datetime, datetime],
    moment: Column,
    tests: list[Condition],
    condition: Condition,
    *,
    count: Callable[[Condition], ColumnElement[int]] = lambda test: func.count().filter(test),
) -> list[list[int]]:
    """For each of `tests`, per day: the rows meeting `condition` whose `moment` falls in
    that day and that meet the test (`count` says how they are counted)."""
    columns = [
        count(and_(within(moment, start, end), test)) for test in tests for start, end in days
    ]
    query = select(*columns).where(condition, within(moment, *span))
    row = [int(value or 0) for value in session.execute(query).one()]
    return [row[index * len(days) : (index + 1) * len(days)] for index in range(len(tests))]
