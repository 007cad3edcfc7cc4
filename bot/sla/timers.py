"""Keeps each case's stored SLA times in step with its history, and explains them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.sla.calendars import BusinessCalendar
from bot.sla.policies import (
    FIRST_RESPONSE,
    RESOLUTION,
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


class SlaTracker:
    def __init__(self, policies: SlaPolicies) -> None:
        self.policies = policies

    def policy_for(self, case: Case) -> SlaPolicy | None:
        return self.policies.policy(case.team_key, case.priority)

    def refresh(self, session: Session, case: Case, now: datetime) -> None:
        """Recompute the stored due and warning times, and the measured first response and
        resolution times, from the case's whole history."""
        policy = self.policy_for(case)
        timers = self._replay(session, case, policy or _MEASURE_ONLY, now)
        _record_measurements(
            case, timers[FIRST_RESPONSE], timers[RESOLUTION], has_targets=policy is not None
        )
        running = timers if policy is not None else {}
        case.first_response_due_at, case.first_response_warn_at = _running_times(
            running.get(FIRST_RESPONSE)
        )
        case.resolution_due_at, case.resolution_warn_at = _running_times(running.get(RESOLUTION))
        case.sla_next_check_at = self.next_check(session, case)

    def timers(self, session: Session, case: Case, now: datetime) -> dict[str, Timer]:
        """The case's timers under its policy (none if it has no policy)."""
        policy = self.policy_for(case)
        return self._replay(session, case, policy, now) if policy else {}

    def _replay(
        self, session: Session, case: Case, policy: SlaPolicy, now: datetime
    ) -> dict[str, Timer]:
        events = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        ).all()
        return compute_timers(case, events, policy, now)

    def next_check(self, session: Session, case: Case) -> datetime | None:
        return next_check(case, self.alerted(session, [case.id]).get(case.id, set()))

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
        for target, due_at in (
            (FIRST_RESPONSE, case.first_response_due_at),
            (RESOLUTION, case.resolution_due_at),
        ):
            if due_at is None:
                continue
            breached = due_at <= now
            between = (due_at, now) if breached else (now, due_at)
            statuses.append(
                TimerStatus(target, due_at, breached, policy.calendar.business_time(*between))
            )
        return statuses


# Cases without a policy are still measured (wall time, pending excluded) for the KPIs.
_MEASURE_ONLY = SlaPolicy(
    first_response=timedelta(days=3650),
    resolution=timedelta(days=3650),
    warn_at=0.75,
    calendar=BusinessCalendar.always(),
    on_breach="alert",
)


def _record_measurements(case: Case, first: Timer, resolution: Timer, *, has_targets: bool) -> None:
    if first.met_at is not None and case.first_response_at is not None:
        case.first_response_seconds = int(first.used.total_seconds())
        case.first_response_breached = first.used > first.budget if has_targets else None
    if case.is_closed:
        case.resolution_seconds = int(resolution.used.total_seconds())
        case.resolution_breached = resolution.used > resolution.budget if has_targets else None
    else:
        case.resolution_seconds = case.resolution_breached = None


def alert_points(case: Case) -> list[AlertPoint]:
    points = []
    for target, warn_at, due_at in (
        (FIRST_RESPONSE, case.first_response_warn_at, case.first_response_due_at),
        (RESOLUTION, case.resolution_warn_at, case.resolution_due_at),
    ):
        if due_at is None:
            continue
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
