"""The routing-check job: cases move on when their assignee does not answer, waiting cases
find an agent when one is free again, and an agent taken out of app.yaml lets go of theirs.

Each case is decided in its own unit of work with its row locked, so a claim by hand at the
same moment wins or loses cleanly (the locked state is checked again), and two processes
running the job at once never move a case twice. What Slack must show is queued with the
change and delivered after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.changes import CaseChange
from bot.cases.sync import CaseSync
from bot.core import Core, Flow
from bot.desk import Team
from bot.routing.rules import MANUAL
from bot.sla.calendars import BusinessCalendar
from bot.slack.outbox import OutboxDeliverer
from models import Case, CaseAction, CaseEvent, CaseStatus

log = logging.getLogger(__name__)

# Statuses in which an assignee is expected to answer (a pending case waits on the requester).
_WORKING = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)

_Decide = Callable[[Session, Case], CaseChange | None]


@dataclass
class RoutingReport:
    reassigned: int = 0
    given_up: int = 0
    backfilled: int = 0
    queued: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.reassigned} reassigned, {self.backfilled} waiting case(s) assigned, "
            f"{self.given_up} left to the managers"
        )


class RoutingCheck(Flow):
    def __init__(self, core: Core, *, sync: CaseSync, outbox: OutboxDeliverer) -> None:
        super().__init__(core)
        self.sync = sync
        self.outbox = outbox

    def run(self) -> RoutingReport:
        report = RoutingReport()
        self.roster.warm()
        for team in self.desk.teams.values():
            if team.assignment.mode == MANUAL:
                continue
            self._check_team(team, report)
        self.outbox.deliver(report.queued)
        return report

    def _check_team(self, team: Team, report: RoutingReport) -> None:
        def move_on(session: Session, case: Case) -> CaseChange | None:
            return self._move_on(session, case, team)

        for number in self._held_too_long(team):
            self._one(number, report, move_on)
        self._backfill(team, report)

    # An assignee who does not answer

    def _held_too_long(self, team: Team) -> list[int]:
        """The team's cases whose assignee may be due to lose them (a wall-time bound:
        business time never runs faster), and those held by someone no longer its agent."""
        after = team.assignment.reassign_after
        agents = set(self.roster.agents_in_turn(team)) | set(self.roster.managers(team))
        with self.db.read_only() as session:
            rows = session.execute(
                select(Case.id, Case.assignee_id, Case.claimed_at).where(
                    Case.team_key == team.key,
                    Case.status.in_(_WORKING),
                    Case.assignee_id.is_not(None),
                )
            ).all()
        now = self.clock.now()
        return [
            number
            for number, assignee, claimed in rows
            if assignee not in agents or (after and claimed and claimed <= now - after)
        ]

    def _move_on(self, session: Session, case: Case, team: Team) -> CaseChange | None:
        """Reassign the case if its assignee left the team, or has not answered within
        `reassign_after` of business time; after `max_reassign` moves, tell the managers."""
        if case.status not in _WORKING or case.assignee_id is None:
            return None  # claimed, closed or parked meanwhile
        now, holder = self.clock.now(), case.assignee_id
        gone = holder not in self.roster.agents_in_turn(team) and not self.roster.is_manager(
            team, holder
        )
        if not gone and not self._unanswered(session, case, team, now):
            return None
        moves = self._moves(session, case.id)
        if not gone and moves >= team.assignment.max_reassign:
            if self._told_managers(session, case.id):
                return None
            return self.cases.record_system_event(
                session, case=case, action=CaseAction.NOBODY_AVAILABLE, unanswered=holder
            )
        pick = self.routing.pick(session, team, exclude=frozenset({holder}))
        why = {"reassigned": "left the team" if gone else "no response", **pick.why()}
        if pick.agent_id is None:
            return None
        return self.cases.route(session, case, pick.agent_id, **why)

    def _unanswered(self, session: Session, case: Case, team: Team, now: datetime) -> bool:
        after = team.assignment.reassign_after
        if after is None or case.claimed_at is None or case.first_response_at is not None:
            return False
        policy = self.sla.policy_for(case)
        calendar = policy.calendar if policy is not None else BusinessCalendar.always()
        return calendar.add(case.claimed_at, after) <= now

    @staticmethod
    def _moves(session: Session, number: int) -> int:
        """How many times the desk moved the case on already."""
        events = session.scalars(
            select(CaseEvent.details).where(
                CaseEvent.case_id == number, CaseEvent.action == CaseAction.ASSIGNED
            )
        )
        return sum(1 for details in events if (details or {}).get("reassigned"))

    @staticmethod
    def _told_managers(session: Session, number: int) -> bool:
        events = session.scalars(
            select(CaseEvent.details).where(
                CaseEvent.case_id == number, CaseEvent.action == CaseAction.NOBODY_AVAILABLE
            )
        )
        return any((details or {}).get("unanswered") for details in events)

    # Waiting cases, when someone is free

    def _backfill(self, team: Team, report: RoutingReport) -> None:
        """Waiting cases go to free agents, the one whose SLA is due soonest first."""
        for number in self._waiting(team):
            before = report.backfilled
            self._one(number, report, lambda session, case: self._give(session, case, team))
            if report.backfilled == before:
                break  # nobody free: the others wait too

    def _waiting(self, team: Team) -> list[int]:
        due = Case.first_response_due_at
        with self.db.read_only() as session:
            return list(
                session.scalars(
                    select(Case.id)
                    .where(
                        Case.team_key == team.key,
                        Case.status == CaseStatus.OPEN,
                        Case.assignee_id.is_(None),
                    )
                    .order_by(due.is_(None), due, Case.resolution_due_at, Case.id)
                    .limit(100)
                )
            )

    def _give(self, session: Session, case: Case, team: Team) -> CaseChange | None:
        if case.assignee_id is not None or case.is_closed:
            return None
        pick = self.routing.pick(session, team)
        if pick.agent_id is None:
            return None
        return self.cases.route(session, case, pick.agent_id, backfilled=True, **pick.why())

    # One case, one unit of work

    def _one(self, number: int, report: RoutingReport, decide: _Decide) -> None:
        try:
            with self.db.unit_of_work() as session:
                case = self.cases.lock(session, number)
                change = decide(session, case)
                if change is None:
                    return
                report.queued += self.sync.queue(session, change)
        except Exception:  # one case that breaks never stops the others
            log.exception("routing-check: case %s failed; it is looked at again next time", number)
            return
        event = change.events[-1]
        if event.action is CaseAction.NOBODY_AVAILABLE:
            report.given_up += 1
        elif (event.details or {}).get("backfilled"):
            report.backfilled += 1
        else:
            report.reassigned += 1
