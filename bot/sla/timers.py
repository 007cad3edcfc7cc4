"""Keeps each case's stored SLA times in step with its history, and explains them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.sla.calendars import BusinessCalendar
from bot.sla.policies import (
    FIRST_RESPONSE,
    RESOLUTION,
    TARGETS,
    SlaPolicies,
    SlaPolicy,
    Timer,
    compute_timers,
)
from models import Case, CaseEvent, SlaAlert

WARN = "warn"
BREACH = "breach"
AlertKey = tuple[str, str, datetime]  # (target, kind, due time)


@dataclass(frozen=True)
class AlertPoint:
    """A moment at which the scheduler owes an alert: the key it is decided under is
    (case, target, kind, due_at), so a due time that moves makes a new alert possible."""

    target: str
    kind: str
    moment: datetime
    due_at: datetime


@dataclass(frozen=True)
class TimerStatus:
    """What the card shows for one running timer."""

    target: str
    due_at: datetime
    breached: bool
    # Business time left until the due time, or (once breached) since it.
    business_time: timedelta
    warned: bool = False  # past its warning point (the warning has gone out or is going)


class SlaTracker:
    def __init__(self, policies: SlaPolicies) -> None:
        self.policies = policies

    def policy_for(self, case: Case) -> SlaPolicy | None:
        return self.policies.policy(case.team_key, case.priority)

    def refresh(self, session: Session, case: Case, now: datetime) -> None:
        """Recompute the stored due and warning times, the measured first response and
        resolution times, and when and how each target settled, from the case's whole
        history and the alerts decided for it, as the database holds them."""
        decided = self.alerted(session, [case.id])[case.id]
        self.refresh_from(case, self.history(session, case), decided, now)

    def refresh_from(
        self,
        case: Case,
        history: Sequence[CaseEvent],
        decided: set[AlertKey],
        now: datetime,
    ) -> None:
        """`refresh` for a caller that holds the case's history already, reading nothing: the
        seed (bot/seed.py), which writes thousands of cases it has in memory. `history` is
        every event of the case (replayed in time order), `decided` the keys of the alerts
        decided for it (`alerted`)."""
        policy = self.policy_for(case)
        targets = compute_timers(case, history, policy, now) if policy else {}
        measured = targets
        if len(targets) < len(TARGETS):  # a target without a budget is measured all the same
            measured = {**compute_timers(case, history, _MEASURE_ONLY, now), **targets}
        _record_measurements(case, measured[FIRST_RESPONSE], measured[RESOLUTION])
        first, final = targets.get(FIRST_RESPONSE), targets.get(RESOLUTION)
        case.first_response_settled_at, case.first_response_breached = _settlement(first)
        case.resolution_settled_at, case.resolution_breached = _settlement(final)
        case.first_response_due_at, case.first_response_warn_at = _running_times(first)
        case.resolution_due_at, case.resolution_warn_at = _running_times(final)
        case.sla_next_check_at = next_check(case, decided)

    def timers(self, session: Session, case: Case, now: datetime) -> dict[str, Timer]:
        """The case's timers under its policy (none if it has no policy)."""
        return self.timers_from(case, self.history(session, case), now)

    def timers_from(
        self, case: Case, history: Sequence[CaseEvent], now: datetime
    ) -> dict[str, Timer]:
        """`timers` replayed from a history the caller holds (see `refresh_from`)."""
        policy = self.policy_for(case)
        return compute_timers(case, history, policy, now) if policy else {}

    @staticmethod
    def history(session: Session, case: Case) -> list[CaseEvent]:
        """The case's events, in time order."""
        return list(
            session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.at, CaseEvent.id)
            )
        )

    def alerted(self, session: Session, case_ids: list[int]) -> dict[int, set[AlertKey]]:
        """The alerts already decided, per case, for the cases given."""
        rows = session.execute(
            select(SlaAlert.case_id, SlaAlert.target, SlaAlert.kind, SlaAlert.due_at).where(
                SlaAlert.case_id.in_(case_ids)
            )
        ).all()
        decided: dict[int, set[AlertKey]] = {case_id: set() for case_id in case_ids}
        for case_id, target, kind, due_at in rows:
            decided[case_id].add((target, kind, due_at))
        return decided

    def status(self, case: Case, now: datetime) -> list[TimerStatus]:
        """The running timers of a case, for its card."""
        policy = self.policy_for(case)
        if policy is None:
            return []
        statuses = []
        for target, due_at, warn_at in _running_targets(case):
            breached = due_at <= now
            between = (due_at, now) if breached else (now, due_at)
            warned = warn_at is not None and warn_at <= now
            business_time = policy.calendar.business_time(*between)
            statuses.append(TimerStatus(target, due_at, breached, business_time, warned))
        return statuses


# Cases without a policy (or a target without a budget) are still measured (wall time,
# pending excluded) for the KPIs.
_MEASURE_ONLY = SlaPolicy(
    first_response=timedelta(days=3650),
    resolution=timedelta(days=3650),
    warn_at=0.75,
    calendar=BusinessCalendar.always(),
    on_breach="alert",
)


def _record_measurements(case: Case, first: Timer, resolution: Timer) -> None:
    answered = first.met_at is not None and case.first_response_at is not None
    case.first_response_seconds = int(first.used.total_seconds()) if answered else None
    closed = case.is_closed
    case.resolution_seconds = int(resolution.used.total_seconds()) if closed else None


def _settlement(timer: Timer | None) -> tuple[datetime | None, bool | None]:
    """When the target counts in SLA attainment (the moment it was met or came due, whichever
    was first), and whether it was missed: None while its clock runs, for it is missed once
    its due time passes unless met before. (None, None) where nothing can be said yet."""
    if timer is None:  # no such target
        return None, None
    if timer.running:
        return timer.due_at, None
    if timer.met_at is not None:
        if timer.used > timer.budget:  # met late: it counts when it came due
            return timer.due_at or timer.met_at, True
        return timer.met_at, False
    if timer.due_at is not None:  # came due, then stopped or paused without being met
        return timer.due_at, True
    return None, None  # paused within its budget, or closed unanswered before it came due


def _running_targets(case: Case) -> list[tuple[str, datetime, datetime | None]]:
    """(target, due time, warning time) of each target whose clock runs, as stored."""
    stored = (
        (FIRST_RESPONSE, case.first_response_due_at, case.first_response_warn_at),
        (RESOLUTION, case.resolution_due_at, case.resolution_warn_at),
    )
    return [(target, due_at, warn_at) for target, due_at, warn_at in stored if due_at is not None]


def alert_points(case: Case) -> list[AlertPoint]:
    points = []
    for target, due_at, warn_at in _running_targets(case):
        if warn_at is not None and warn_at < due_at:
            points.append(AlertPoint(target, WARN, warn_at, due_at))
        points.append(AlertPoint(target, BREACH, due_at, due_at))
    return points


def alert_key(point: AlertPoint) -> AlertKey:
    return point.target, point.kind, point.due_at


def next_check(case: Case, alerted: set[AlertKey]) -> datetime | None:
    """The earliest alert moment of the case not decided yet."""
    pending = [point for point in alert_points(case) if alert_key(point) not in alerted]
    return min((point.moment for point in pending), default=None)


def _running_times(timer: Timer | None) -> tuple[datetime | None, datetime | None]:
    if timer is None or not timer.running:
        return None, None
    return timer.due_at, timer.warn_at
