"""The team KPIs of a period: volumes, times, SLA attainment, rates and CSAT (definitions in
bot/metrics/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    and_,
    distinct,
    func,
    select,
)
from sqlalchemy.orm import Session, aliased

from bot.metrics.sql import (
    FIRST_RESPONSE_SLA,
    RESOLUTION_SLA,
    Column,
    Condition,
    SlaTarget,
    by,
    closed_in,
    for_team,
    owner_changes,
    within,
)
from bot.sqlfuncs import percentile
from models import Case, CaseAction, CaseEvent, CaseSource, CsatResponse

# The windows `/case stats` offers, with their length in days (today: since local midnight).
STATS_WINDOWS = {"today": 0, "yesterday": 1, "7d": 7, "30d": 30}


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
    # Of `opened`, how many came in each way (CaseSource values: command, form, shortcut...).
    opened_by_source: dict[str, int] = field(default_factory=dict)


def team_kpis(
    session: Session,
    *,
    team_key: str,
    start: datetime,
    end: datetime,
    followed_until: datetime,
) -> TeamKpis:
    """Every KPI of a team over [start, end), in six queries: events, first responses,
    closes, the two SLA targets and CSAT answers, each over its own index range.

    What happened after the period is seen up to `followed_until`: now for the period
    reported. Rates follow the period's cases (escalated since opening, reopened since
    closing, survey answered since sent), and a target still running counts as missed once
    its due time has passed by then (so one due later today is no miss yet). To compare
    periods like for like, give each the same time past its end: a day just over has had one
    day less to see reopens than the day before it."""
    activity = _activity(session, team_key, start, end, followed_until)
    first_response = _spread(
        session,
        Case.first_response_seconds,
        for_team(team_key),
        within(Case.first_response_at, start, end),
    )
    resolution = _spread(
        session, Case.resolution_seconds, for_team(team_key), closed_in(start, end)
    )
    first_response_sla, resolution_sla = (
        _attainment(session, team_key, target, start, end, followed_until)
        for target in (FIRST_RESPONSE_SLA, RESOLUTION_SLA)
    )
    csat_average, distribution = _csat(session, team_key, start, end)
    return TeamKpis(
        team_key=team_key,
        start=start,
        end=end,
        opened=activity.opened,
        resolved=activity.closed_cases,
        reopened=activity.reopens,
        escalated=activity.escalated_cases,
        first_response=first_response,
        resolution=resolution,
        first_response_sla=first_response_sla,
        resolution_sla=resolution_sla,
        breaches=_missed(first_response_sla) + _missed(resolution_sla),
        first_contact_resolution=Ratio(activity.closed_at_first_contact, activity.closed_cases),
        escalation_rate=Ratio(activity.opened_then_escalated, activity.opened),
        reopen_rate=Ratio(activity.closed_cases_reopened, activity.closed_cases),
        csat_average=csat_average,
        csat_distribution=distribution,
        csat_response_rate=Ratio(activity.surveys_answered, activity.surveys),
        opened_by_source=_opened_by_source(session, team_key, start, end),
    )


def _opened_by_source(
    session: Session, team_key: str, start: datetime, end: datetime
) -> dict[str, int]:
    """How the cases the team opened in the period (its `opened` figure) came in, most
    first: over the (team, action, time) index, each case by its primary key."""
    rows = session.execute(
        select(Case.source, func.count())
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.team_key == team_key,
            CaseEvent.action == CaseAction.OPENED,
            within(CaseEvent.at, start, end),
        )
        .group_by(Case.source)
    ).all()
    counted = {str(CaseSource(source).value): int(count) for source, count in rows}
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def _missed(targets: Ratio) -> int:
    return targets.whole - targets.part


@dataclass(frozen=True)
class _Activity:
    """What the audit trail says a team did in a period, and what became of it since."""

    opened: int
    opened_then_escalated: int  # of `opened`, those the team escalated since
    reopens: int
    escalated_cases: int  # a case escalated twice is one
    closed_cases: int  # closed at least once in the period: the cases resolved
    closed_cases_reopened: int  # of `closed_cases`, those reopened after that close
    closed_at_first_contact: int  # of `closed_cases`, the first-contact resolutions
    surveys: int  # cases surveyed
    surveys_answered: int  # of `surveys`, those answered since


def _activity(
    session: Session, team_key: str, start: datetime, end: datetime, until: datetime
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
            by(CsatResponse.answered_at, until),
        )
        .exists()
    )
    cases = func.count(distinct(event.case_id))
    counts = session.execute(
        select(
            func.count().filter(opened),
            cases.filter(and_(opened, escalated_since)),
            func.count().filter(action == CaseAction.REOPENED),
            cases.filter(action == CaseAction.ESCALATED),
            cases.filter(closed),
            cases.filter(and_(closed, reopened_since)),
            cases.filter(and_(closed, _first_contact_close(until))),
            cases.filter(surveyed),
            cases.filter(and_(surveyed, answered)),
        ).where(
            event.team_key == team_key,
            action.in_(_ACTIVITY),
            within(event.at, start, end),
        )
    ).one()
    return _Activity(*(int(count or 0) for count in counts))


_ACTIVITY = (
    CaseAction.OPENED,
    CaseAction.CLOSED,
    CaseAction.REOPENED,
    CaseAction.ESCALATED,
    CaseAction.CSAT_REQUESTED,
)


def _other_event(
    action: CaseAction,
    until: datetime,
    conditions: Callable[[type[CaseEvent]], list[Condition]] = lambda other: [],
) -> Condition:
    """Whether the case of the outer `CaseEvent` has an `action` event by `until` that meets
    `conditions` (given that other event, to compare it with the outer)."""
    other = aliased(CaseEvent)
    return (
        select(other.id)
        .where(
            other.case_id == CaseEvent.case_id,
            other.action == action,
            by(other.at, until),
            *conditions(other),
        )
        .exists()
    )


def _first_contact_close(until: datetime) -> Condition:
    """The outer close event resolved its case at first contact: closed by the case's first
    assignee (or, never assigned, by whoever closed it), with at most one claim or assignment
    before, and the case never escalated nor reopened (as far as `until`)."""
    first_owner = (
        select(Case.first_assignee_id).where(Case.id == CaseEvent.case_id).scalar_subquery()
    )
    return and_(
        owner_changes(CaseEvent.case_id, before=CaseEvent.id) <= 1,
        # One lookup: never assigned counts as the closer being the first owner.
        func.coalesce(first_owner, CaseEvent.actor_id) == CaseEvent.actor_id,
        ~_other_event(CaseAction.ESCALATED, until),
        ~_other_event(CaseAction.REOPENED, until),
    )


def _spread(session: Session, seconds: Column, *conditions: Condition) -> Spread:
    """Median and 90th percentile of `seconds` over the cases meeting `conditions`."""
    median, p90, timed = session.execute(
        select(
            percentile(0.5, seconds),
            percentile(0.9, seconds),
            func.count(seconds),
        ).where(*conditions)
    ).one()
    return Spread(
        median=float(median) if median is not None else None,
        p90=float(p90) if p90 is not None else None,
        count=int(timed),
    )


def _attainment(
    session: Session,
    team_key: str,
    target: SlaTarget,
    start: datetime,
    end: datetime,
    until: datetime,
) -> Ratio:
    """Of the team's targets that count in the period, those met."""
    met, counted = session.execute(
        select(func.count().filter(target.met), func.count()).where(
            for_team(team_key), target.counted(start, end, until)
        )
    ).one()
    return Ratio(int(met or 0), int(counted or 0))


def _csat(
    session: Session, team_key: str, start: datetime, end: datetime
) -> tuple[float | None, dict[int, int]]:
    """The average rating and how many of each rating (1-5) were given in the period."""
    ratings = range(1, 6)
    average, *counts = session.execute(
        select(
            func.avg(CsatResponse.rating),
            *(func.count().filter(CsatResponse.rating == rating) for rating in ratings),
        ).where(CsatResponse.team_key == team_key, within(CsatResponse.answered_at, start, end))
    ).one()
    distribution = {rating: int(count) for rating, count in zip(ratings, counts, strict=True)}
    return (float(average) if average is not None else None), distribution
