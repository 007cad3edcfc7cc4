"""A seeded case's believable life, as `python -m bot seed` writes it (bot/seed.py): opened,
claimed, answered, sometimes pending, escalated or reopened, usually closed, sometimes rated.
Each moment happens only once the clock's now has passed it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.desk import Team
from models import Base, Case, CaseAction, CaseSource, CaseStatus

SCHEDULER = "scheduler"  # the actor of what the desk itself does (alerts, surveys)
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


Model = TypeVar("Model", bound=Base)
Event = tuple[datetime, str, CaseAction, CaseStatus | None, dict[str, Any]]


@dataclass
class Life:
    """One case as its story is written: the case, its events so far, and who plays in it."""

    rng: random.Random
    now: datetime
    team: Team
    agent: str
    case: Case
    events: list[Event] = field(default_factory=list)
    ratings: list[tuple[int, datetime]] = field(default_factory=list)  # (rating, answered)

    @property
    def in_progress(self) -> bool:
        return self.case.status is CaseStatus.IN_PROGRESS

    def happen(
        self,
        at: datetime,
        actor: str,
        action: CaseAction,
        status_after: CaseStatus | None = None,
        **details: Any,
    ) -> bool:
        """Record an event, unless its moment is yet to come (then it has not happened)."""
        if at >= self.now:
            return False
        self.events.append((at, actor, action, status_after, details))
        return True


def live(rng: random.Random, number: int, opened: datetime, team: Team, now: datetime) -> Life:
    agents = [member for member in team.agents + team.managers if not member.startswith("S")]
    life = _open(rng, number, opened, team, rng.choice(agents or ["U0SEEDAGENT"]), now)
    moment = _first_reply(life, _claim(life))
    if life.in_progress and rng.random() < 0.25:
        moment = _wait_for_requester(life, moment)
    if life.in_progress and rng.random() < 0.08:
        moment = _escalate(life, moment)
    closed = _closing_moment(rng, moment)
    if (
        life.in_progress
        and rng.random() < 0.995
        and life.happen(closed, life.agent, CaseAction.CLOSED, CaseStatus.CLOSED)
    ):
        _close(life.case, life.agent, closed, "Fixed")
        if rng.random() < 0.06:
            _reopen(life, closed)
        _survey(life)
    return life


def _open(
    rng: random.Random, number: int, opened: datetime, team: Team, agent: str, now: datetime
) -> Life:
    """The case as its requester opens it."""
    requester = f"U0CUST{rng.randint(1, 500):04d}"
    case = transient(
        Case,
        id=number,
        title=rng.choice(TITLES),
        description="",
        team_key=team.key,
        priority=rng.choices(("p1", "p2", "p3", "p4"), weights=(5, 20, 55, 20))[0],
        status=CaseStatus.OPEN,
        requester_id=requester,
        escalation_level=0,
        reopen_count=0,
        source=CaseSource.COMMAND,  # its `opened` event is a command's
        opened_at=opened,
        last_activity_at=opened,
    )
    life = Life(rng, now, team, agent, case)
    life.happen(opened, requester, CaseAction.OPENED)
    return life


def _claim(life: Life) -> datetime:
    """An agent claims the case (if that moment has come); returns the moment."""
    claimed = life.case.opened_at + timedelta(minutes=life.rng.expovariate(1 / 25))
    if life.happen(claimed, life.agent, CaseAction.CLAIMED, CaseStatus.IN_PROGRESS):
        case = life.case
        case.status = CaseStatus.IN_PROGRESS
        case.assignee_id = case.first_assignee_id = life.agent
        case.claimed_at = case.last_activity_at = claimed
    return claimed


def _first_reply(life: Life, claimed: datetime) -> datetime:
    """The agent's first reply in the thread; returns its moment."""
    replied = claimed + timedelta(minutes=life.rng.expovariate(1 / 20))
    if life.in_progress and life.happen(
        replied, life.agent, CaseAction.RESPONDED, first_response=True
    ):
        life.case.first_response_at = life.case.last_activity_at = replied
        life.case.first_responder_id = life.agent
    return replied


def _wait_for_requester(life: Life, moment: datetime) -> datetime:
    """The case waits on the requester a while, then resumes when they reply; returns the
    moment the story goes on from."""
    moment += timedelta(hours=life.rng.expovariate(1 / 3))
    waited = timedelta(hours=life.rng.expovariate(1 / 10))
    reason = "Waiting for logs"
    if life.happen(moment, life.agent, CaseAction.PENDING, CaseStatus.PENDING, reason=reason):
        case = life.case
        case.status, case.pending_reason, case.pending_since = CaseStatus.PENDING, reason, moment
        case.last_activity_at = moment
        if life.happen(
            moment + waited,
            life.case.requester_id,
            CaseAction.RESUMED,
            CaseStatus.IN_PROGRESS,
            cause="requester replied",
        ):
            moment += waited
            case.status, case.pending_reason = CaseStatus.IN_PROGRESS, None
            case.pending_since, case.last_activity_at = None, moment
    return moment


def _escalate(life: Life, moment: datetime) -> datetime:
    moment += timedelta(hours=life.rng.expovariate(1 / 2))
    life.happen(
        moment,
        life.agent,
        CaseAction.ESCALATED,
        reason="Needs engineering",
        from_team=life.team.key,
    )
    return moment


def _closing_moment(rng: random.Random, moment: datetime) -> datetime:
    closed = moment + timedelta(hours=rng.expovariate(1 / 6))
    # A few cases linger for weeks; all but a handful are closed within a month, as in a
    # healthy desk (its backlog is days deep, not a year).
    if rng.random() < 0.1:
        closed += timedelta(days=rng.expovariate(1 / 10))
    return closed


def _close(case: Case, agent: str, at: datetime, resolution: str) -> None:
    case.status, case.closed_at, case.closed_by, case.resolution = (
        CaseStatus.CLOSED,
        at,
        agent,
        resolution,
    )
    case.last_activity_at = at


def _reopen(life: Life, closed: datetime) -> None:
    """The requester reopens the closed case; the agent may close it again for good."""
    reopened = closed + timedelta(hours=life.rng.expovariate(1 / 24))
    if not life.happen(
        reopened,
        life.case.requester_id,
        CaseAction.REOPENED,
        CaseStatus.IN_PROGRESS,
        reason="Still broken",
    ):
        return
    case = life.case
    case.status, case.reopen_count, case.reopened_at = CaseStatus.IN_PROGRESS, 1, reopened
    case.closed_at = case.closed_by = case.resolution = None
    case.last_activity_at = reopened
    again = reopened + timedelta(hours=life.rng.expovariate(1 / 4))
    if life.happen(again, life.agent, CaseAction.CLOSED, CaseStatus.CLOSED):
        _close(case, life.agent, again, "Fixed for real")


def _survey(life: Life) -> None:
    """A closed case is surveyed when its team asks; about a third of the requesters answer."""
    case, settings = life.case, life.team.csat
    if case.closed_at is None or not settings.enabled:
        return  # reopened and not closed again yet, or the team sends no survey
    minutes = int(settings.delay / timedelta(minutes=1)) or None
    if not life.happen(case.closed_at, SCHEDULER, CaseAction.CSAT_REQUESTED, delay_minutes=minutes):
        return
    answered = case.closed_at + settings.delay + timedelta(minutes=life.rng.randint(5, 600))
    if life.rng.random() < 0.35 and answered < life.now:
        rating = life.rng.choices((1, 2, 3, 4, 5), weights=(3, 4, 10, 35, 48))[0]
        life.happen(answered, case.requester_id, CaseAction.CSAT_RATED, rating=rating)
        life.ratings.append((rating, answered))


def transient(model: type[Model], /, **values: Any) -> Model:
    """A transient `model` holding `values`, made without the change tracking its constructor
    sets up attribute by attribute (three times the cost): the seed's objects are read by the
    tracker and written as rows, never added to a session."""
    instance: Model = model.__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance
