"""Keeps each case's stored SLA times in step with its history, and explains them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.sla import FIRST_RESPONSE, RESOLUTION, SlaPolicies, SlaPolicy, Timer, compute_timers
from models import Case, CaseEvent, SlaAlert

WARN = "warn"
BREACH = "breach"


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
        """Recompute the stored due and warning times from the case's whole history."""
        timers = self.timers(session, case, now)
        first, resolution = timers.get(FIRST_RESPONSE), timers.get(RESOLUTION)
        case.first_response_due_at, case.first_response_warn_at = _running_times(first)
        case.resolution_due_at, case.resolution_warn_at = _running_times(resolution)
        case.sla_next_check_at = self.next_check(session, case)

    def timers(self, session: Session, case: Case, now: datetime) -> dict[str, Timer]:
        policy = self.policy_for(case)
        if policy is None:
            return {}
        events = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        ).all()
        return compute_timers(case, events, policy, now)

    def next_check(self, session: Session, case: Case) -> datetime | None:
        alerted = self.alerted(session, case.id)
        pending = [point for point in alert_points(case) if _key(point) not in alerted]
        return min((point.moment for point in pending), default=None)

    def alerted(self, session: Session, case_id: int) -> set[tuple[str, str, datetime]]:
        rows = session.execute(
            select(SlaAlert.target, SlaAlert.kind, SlaAlert.due_at).where(
                SlaAlert.case_id == case_id
            )
        ).all()
        return {(target, kind, due_at) for target, kind, due_at in rows}

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


def _key(point: AlertPoint) -> tuple[str, str, datetime]:
    return point.target, point.kind, point.due_at


def _running_times(timer: Timer | None) -> tuple[datetime | None, datetime | None]:
    if timer is None or not timer.running:
        return None, None
    return timer.due_at, timer.warn_at
