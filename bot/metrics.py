"""Team KPIs, computed in SQL from the cases and the audit trail.

Pure query functions: a session, a team and a period [start, end) in, figures out. The summary
posts, `/case stats`, App Home and the export all read them from here.

Definitions (also shown in the summary's footnote):
- new: cases opened in the period; resolved: close events in the period; reopened: reopen events;
  escalated: cases escalated at least once in the period. Events count for the team the case
  was in when they happened (a case closed by one team and later handed on stays theirs).
- first response time: opening to the first agent reply in the case thread; resolution time:
  opening to close, time pending excluded; both in business time of the team's SLA calendar
  where it has one. Medians and 90th percentiles over the cases answered / closed in the period.
- SLA attainment: of the targets completed in the period, how many were met; breaches: SLA
  breach alerts in the period.
- first-contact resolution: of the cases closed in the period, those closed by their first
  assignee (or, never assigned, by whoever closed them), never escalated, reassigned or reopened.
- escalation rate: of the cases opened in the period, those escalated since; reopen rate: of the
  cases closed in the period, those reopened since. Rates follow their cases, so they never
  exceed 100% and a period's rate can still rise while its cases live on.
- CSAT: ratings given in the period (1-5); response rate: of the surveys sent in the period,
  those answered since.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CompoundSelect,
    RowMapping,
    and_,
    case,
    distinct,
    false,
    func,
    label,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement, Label, SQLCoreOperations

from bot.sqlfuncs import percentile
from models import OPEN_STATUSES, Case, CaseAction, CaseEvent, CaseStatus, CsatResponse

# The windows `/case stats` offers, with their length in days (today: since local midnight).
STATS_WINDOWS = {"today": 0, "yesterday": 1, "7d": 7, "30d": 30}

Condition = ColumnElement[bool]
Column = SQLCoreOperations[Any]


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of durations, in seconds; None where nothing was measured."""

    median: float | None
    p90: float | None
    count: int


@dataclass(frozen=True)
class TeamKpis:
    team_key: str
    start: datetime
    end: datetime
    opened: int
    resolved: int
    reopened: int
    escalated: int
    first_response: Spread
    resolution: Spread
    first_response_sla: Ratio
    resolution_sla: Ratio
    breaches: int
    first_contact_resolution: Ratio
    escalation_rate: Ratio
    reopen_rate: Ratio
    csat_average: float | None
    csat_distribution: dict[int, int] = field(default_factory=dict)
    csat_response_rate: Ratio = Ratio(0, 0)


@dataclass(frozen=True)
class AgentRow:
    agent_id: str
    handled: int
    resolved: int
    first_response_median: float | None
    open_now: int


def team_kpis(
    session: Session,
    *,
    team_key: str,
    start: datetime,
    end: datetime,
    followed_until: datetime | None = None,
) -> TeamKpis:
    """Every KPI of a team over [start, end), in four queries: events, first responses, closes
    and CSAT answers, each over its own index range.

    Rates follow the period's cases (escalated since opening, reopened since closing, survey
    answered since sent) up to `followed_until`, by default until now. To compare periods like
    for like, give each the same time past its end: a day just over has had one day less to
    see reopens than the day before it."""
    activity = _activity(session, team_key, start, end, followed_until)
    first_response, first_response_sla = _measured(
        session,
        Case.first_response_seconds,
        Case.first_response_breached,
        _team(team_key),
        _in(Case.first_response_at, start, end),
    )
    resolution, resolution_sla = _measured(
        session,
        Case.resolution_seconds,
        Case.resolution_breached,
        _team(team_key),
        _closed_in(start, end),
    )
    csat_average, distribution = _csat(session, team_key, start, end)
    return TeamKpis(
        team_key=team_key,
        start=start,
        end=end,
        opened=activity.opened,
        resolved=activity.closes,
        reopened=activity.reopens,
        escalated=activity.escalated_cases,
        first_response=first_response,
        resolution=resolution,
        first_response_sla=first_response_sla,
        resolution_sla=resolution_sla,
        breaches=activity.breaches,
        first_contact_resolution=Ratio(activity.closed_at_first_contact, activity.closed_cases),
        escalation_rate=Ratio(activity.opened_then_escalated, activity.opened),
        reopen_rate=Ratio(activity.closed_cases_reopened, activity.closed_cases),
        csat_average=csat_average,
        csat_distribution=distribution,
        csat_response_rate=Ratio(activity.surveys_answered, activity.surveys),
    )


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
        select(Case.id).where(_team(team_key), Case.status.in_(OPEN_STATUSES)),
        select(Case.id).where(
            _team(team_key), Case.status == CaseStatus.CLOSED, Case.closed_at >= at
        ),
    )


def oldest_open(session: Session, *, team_key: str, limit: int = 5) -> list[Case]:
    return list(
        session.scalars(
            select(Case)
            .where(_team(team_key), Case.status.in_(OPEN_STATUSES))
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
                _team(team_key),
                Case.status.in_(OPEN_STATUSES),
                due,
            )
            .order_by(soonest, Case.id)
            .limit(limit)
        )
    )


def agent_table(
    session: Session, *, team_key: str, agents: list[str], start: datetime, end: datetime
) -> list[AgentRow]:
    """Per agent: cases handled (acted on) and resolved in the period, their median first
    response time, and the cases assigned to them now."""
    if not agents:
        return []
    worked = (
        CaseAction.CLAIMED,
        CaseAction.ASSIGNED,
        CaseAction.RESPONDED,
        CaseAction.CLOSED,
        CaseAction.PENDING,
    )
    handled = _per_actor(
        session, func.count(distinct(CaseEvent.case_id)), team_key, agents, worked, start, end
    )
    resolved = _per_actor(session, func.count(), team_key, agents, (CaseAction.CLOSED,), start, end)
    first_response = dict(
        session.execute(
            select(Case.first_responder_id, percentile(0.5, Case.first_response_seconds))
            .where(
                _team(team_key),
                Case.first_responder_id.in_(agents),
                _in(Case.first_response_at, start, end),
            )
            .group_by(Case.first_responder_id)
        ).all()
    )
    open_now = dict(
        session.execute(
            select(Case.assignee_id, func.count())
            .where(_team(team_key), Case.assignee_id.in_(agents), Case.status.in_(OPEN_STATUSES))
            .group_by(Case.assignee_id)
        ).all()
    )
    rows = [
        AgentRow(
            agent_id=agent,
            handled=int(handled.get(agent, 0)),
            resolved=int(resolved.get(agent, 0)),
            first_response_median=first_response.get(agent),
            open_now=int(open_now.get(agent, 0)),
        )
        for agent in agents
    ]
    return sorted(rows, key=lambda row: (-row.handled, -row.open_now, row.agent_id))


def case_records(
    session: Session, *, team_key: str, start: datetime, end: datetime, chunk: int = 2000
) -> Iterator[RowMapping]:
    """The team's cases opened in [start, end), oldest first, as `CASE_RECORD_FIELDS`.
    Streamed `chunk` rows at a time (a server-side cursor on PostgreSQL), so any number of
    cases is read in constant memory."""
    query = (
        select(*_case_record())
        .outerjoin(CsatResponse, CsatResponse.case_id == Case.id)
        .where(_team(team_key), _in(Case.opened_at, start, end))
        .order_by(Case.id)
        .execution_options(yield_per=chunk)
    )
    yield from session.execute(query).mappings()


def daily_counts(
    session: Session, *, team_key: str, days: list[tuple[datetime, datetime]]
) -> list[tuple[int, int, Ratio]]:
    """(opened, resolved, SLA attainment of both targets) for each [start, end) in `days`.

    Four queries whatever the number of days: each counts every day at once with FILTER
    clauses, over the one index range that spans all the days (the counts of opened cases and
    of closes read nothing but that index)."""
    if not days:
        return []
    span = (days[0][0], days[-1][1])
    team = _team(team_key)
    [opened] = _per_day(
        session, CaseEvent.at, days, [true()], _events(team_key, CaseAction.OPENED), span
    )
    [resolved] = _per_day(
        session,
        CaseEvent.at,
        days,
        [true()],
        _events(team_key, CaseAction.CLOSED),
        span,
    )
    first = Case.first_response_breached
    first_met, first_measured = _per_day(
        session, Case.first_response_at, days, [first.is_(False), first.is_not(None)], team, span
    )
    final = Case.resolution_breached
    final_met, final_measured = _per_day(
        session,
        Case.closed_at,
        days,
        [final.is_(False), final.is_not(None)],
        and_(team, Case.status == CaseStatus.CLOSED),
        span,
    )
    return [
        (
            opened[day],
            resolved[day],
            Ratio(first_met[day] + final_met[day], first_measured[day] + final_measured[day]),
        )
        for day in range(len(days))
    ]


def _per_day(
    session: Session,
    moment: Column,
    days: list[tuple[datetime, datetime]],
    counted: list[Condition],
    condition: Condition,
    span: tuple[datetime, datetime],
) -> list[list[int]]:
    """For each of `counted`, per day: the rows meeting `condition` whose `moment` falls in
    that day and that meet it."""
    columns = [
        func.count().filter(and_(_in(moment, start, end), test))
        for test in counted
        for start, end in days
    ]
    query = select(*columns).where(condition, _in(moment, *span))
    row = [int(value or 0) for value in session.execute(query).one()]
    return [row[index * len(days) : (index + 1) * len(days)] for index in range(len(counted))]


# Building blocks


def _team(team_key: str) -> Condition:
    return Case.team_key == team_key


def _events(team_key: str, action: CaseAction) -> Condition:
    return and_(CaseEvent.team_key == team_key, CaseEvent.action == action)


def _in(column: Column, start: datetime, end: datetime) -> Condition:
    return and_(column >= start, column < end)


def _before(column: Column, until: datetime | None) -> Condition:
    """`column` before `until`; no bound without one."""
    return column < until if until else true()


def _closed_in(start: datetime, end: datetime) -> Condition:
    return and_(Case.status == CaseStatus.CLOSED, _in(Case.closed_at, start, end))


def _per_actor(
    session: Session,
    counted: ColumnElement[int],
    team_key: str,
    agents: list[str],
    actions: tuple[CaseAction, ...],
    start: datetime,
    end: datetime,
) -> dict[str, int]:
    """`counted` over the team's events of `actions` in the period, per acting agent."""
    rows = session.execute(
        select(CaseEvent.actor_id, counted)
        .where(
            CaseEvent.team_key == team_key,
            CaseEvent.actor_id.in_(agents),
            CaseEvent.action.in_(actions),
            _in(CaseEvent.at, start, end),
        )
        .group_by(CaseEvent.actor_id)
    ).all()
    return {str(actor): int(count) for actor, count in rows}


@dataclass(frozen=True)
class _Activity:
    """What the audit trail says a team did in a period, and what became of it since."""

    opened: int
    opened_then_escalated: int  # of `opened`, those the team escalated since
    closes: int
    reopens: int
    escalated_cases: int  # a case escalated twice is one
    breaches: int
    closed_cases: int
    closed_cases_reopened: int  # of `closed_cases`, those reopened after that close
    closed_at_first_contact: int  # of `closed_cases`, the first-contact resolutions
    surveys: int  # cases surveyed
    surveys_answered: int  # of `surveys`, those answered since


def _activity(
    session: Session, team_key: str, start: datetime, end: datetime, until: datetime | None
) -> _Activity:
    """The team's counted events in the period, in one pass over the (team, action, time)
    index. The correlated lookups (a reopen after a close, an answer to a survey, ...) only run
    for the rows whose action needs them, through the (case, time) and unique case indexes."""
    event, action = CaseEvent, CaseEvent.action
    opened, closed = action == CaseAction.OPENED, action == CaseAction.CLOSED
    surveyed = action == CaseAction.CSAT_REQUESTED
    escalated_since = _other_event(
        CaseAction.ESCALATED, until, lambda other: [other.team_key == event.team_key]
    )
    reopened_since = _other_event(CaseAction.REOPENED, until, lambda other: [other.id > event.id])
    answered = (
        select(CsatResponse.id)
        .where(
            CsatResponse.case_id == event.case_id,
            CsatResponse.updated_at >= event.at,  # this survey's answer, not an earlier one's
            _before(CsatResponse.answered_at, until),
        )
        .exists()
    )
    cases = func.count(distinct(event.case_id))
    counts = session.execute(
        select(
            func.count().filter(opened),
            cases.filter(and_(opened, escalated_since)),
            func.count().filter(closed),
            func.count().filter(action == CaseAction.REOPENED),
            cases.filter(action == CaseAction.ESCALATED),
            func.count().filter(action == CaseAction.SLA_BREACHED),
            cases.filter(closed),
            cases.filter(and_(closed, reopened_since)),
            cases.filter(and_(closed, _first_contact_close(until))),
            cases.filter(surveyed),
            cases.filter(and_(surveyed, answered)),
        ).where(
            event.team_key == team_key,
            action.in_(_ACTIVITY),
            _in(event.at, start, end),
        )
    ).one()
    return _Activity(*(int(count or 0) for count in counts))


_ACTIVITY = (
    CaseAction.OPENED,
    CaseAction.CLOSED,
    CaseAction.REOPENED,
    CaseAction.ESCALATED,
    CaseAction.SLA_BREACHED,
    CaseAction.CSAT_REQUESTED,
)


def _other_event(
    action: CaseAction,
    until: datetime | None,
    conditions: Callable[[type[CaseEvent]], list[Condition]] = lambda other: [],
) -> Condition:
    """Whether the case of the outer `CaseEvent` has an `action` event before `until` (if
    given) that meets `conditions` (given that other event, to compare it with the outer)."""
    other = aliased(CaseEvent)
    return (
        select(other.id)
        .where(
            other.case_id == CaseEvent.case_id,
            other.action == action,
            _before(other.at, until),
            *conditions(other),
        )
        .exists()
    )


def _first_contact_close(until: datetime | None) -> Condition:
    """The outer close event resolved its case at first contact: closed by the case's first
    assignee (or, never assigned, by whoever closed it), with at most one claim or assignment
    before, and the case never escalated nor reopened (as far as `until`)."""
    first_owner = (
        select(Case.first_assignee_id).where(Case.id == CaseEvent.case_id).scalar_subquery()
    )
    return and_(
        _owner_changes(CaseEvent.case_id, before=CaseEvent.id) <= 1,
        # One lookup: never assigned counts as the closer being the first owner.
        func.coalesce(first_owner, CaseEvent.actor_id) == CaseEvent.actor_id,
        ~_other_event(CaseAction.ESCALATED, until),
        ~_other_event(CaseAction.REOPENED, until),
    )


def _measured(
    session: Session, seconds: Column, breached: Column, *conditions: Condition
) -> tuple[Spread, Ratio]:
    """Over the cases meeting `conditions`: the spread of `seconds` and the SLA attainment
    (targets met of those measured)."""
    median, p90, timed, met, measured = session.execute(
        select(
            percentile(0.5, seconds),
            percentile(0.9, seconds),
            func.count(seconds),
            func.count().filter(breached.is_(False)),
            func.count(breached),
        ).where(*conditions)
    ).one()
    spread = Spread(
        median=float(median) if median is not None else None,
        p90=float(p90) if p90 is not None else None,
        count=int(timed),
    )
    return spread, Ratio(int(met), int(measured))


def _first_contact() -> Condition:
    """The case, as it stands now, was resolved at first contact (the export's flag): closed
    by its first assignee, never escalated, reopened or handed to another owner.

    The ownership count is a correlated subquery, which the database only runs for the rows
    the other (cheap) conditions let through."""
    return and_(
        # Closed straight away, by an agent nobody had to assign it to, counts too.
        or_(Case.first_assignee_id.is_(None), Case.closed_by == Case.first_assignee_id),
        Case.escalation_level == 0,
        Case.reopen_count == 0,
        _owner_changes(Case.id) <= 1,
    )


def _owner_changes(case_id: Column, *, before: Column | None = None) -> ColumnElement[int]:
    """How many times the case was claimed or assigned (before the event `before`, if given)."""
    owners = aliased(CaseEvent)
    return (
        select(func.count(owners.id))
        .where(
            owners.case_id == case_id,
            owners.action.in_((CaseAction.CLAIMED, CaseAction.ASSIGNED)),
            owners.id < before if before is not None else true(),
        )
        .scalar_subquery()
    )


def _csat(
    session: Session, team_key: str, start: datetime, end: datetime
) -> tuple[float | None, dict[int, int]]:
    """The average rating and how many of each rating (1-5) were given in the period."""
    ratings = range(1, 6)
    average, *counts = session.execute(
        select(
            func.avg(CsatResponse.rating),
            *(func.count().filter(CsatResponse.rating == rating) for rating in ratings),
        ).where(CsatResponse.team_key == team_key, _in(CsatResponse.answered_at, start, end))
    ).one()
    distribution = {rating: int(count) for rating, count in zip(ratings, counts, strict=True)}
    return (float(average) if average is not None else None), distribution


def _case_record() -> list[Label[Any]]:
    """Every case as a record for spreadsheets and BI tools: the columns, named, in order."""
    first_contact_resolution = type_coerce(  # empty while the case is not closed
        case((Case.status == CaseStatus.CLOSED, _first_contact())), Boolean
    )
    fields: dict[str, Column] = {
        "case": Case.id,
        "team": Case.team_key,
        "priority": Case.priority,
        "status": Case.status,
        "title": Case.title,
        "requester": Case.requester_id,
        "assignee": Case.assignee_id,
        "first_assignee": Case.first_assignee_id,
        "first_responder": Case.first_responder_id,
        "escalation_level": Case.escalation_level,
        "reopen_count": Case.reopen_count,
        "opened_at": Case.opened_at,
        "first_response_at": Case.first_response_at,
        "first_response_seconds": Case.first_response_seconds,
        "first_response_breached": Case.first_response_breached,
        "closed_at": Case.closed_at,
        "closed_by": Case.closed_by,
        "resolution_seconds": Case.resolution_seconds,
        "resolution_breached": Case.resolution_breached,
        "csat_rating": CsatResponse.rating,
        "csat_comment": CsatResponse.comment,
        # Added later: new fields go last, so spreadsheets reading by position keep working.
        "claimed_at": Case.claimed_at,
        "last_escalated_at": Case.last_escalated_at,
        "reopened_at": Case.reopened_at,
        "first_contact_resolution": first_contact_resolution,
        "csat_answered_at": CsatResponse.answered_at,
    }
    return [label(name, column) for name, column in fields.items()]


CASE_RECORD_FIELDS = tuple(column.name for column in _case_record())
