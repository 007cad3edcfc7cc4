"""What every change to a case does alike: lock the row, check it, start a draft of its
events, and finish: append the events and replay the case's SLA clocks."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.cases.changes import Actor, CaseChange, Draft
from bot.cases.guards import Guards
from bot.clock import Clock
from bot.desk import DeskConfig, Team
from bot.roster import Roster
from bot.sla.timers import SlaTracker
from models import Case, CaseAction


class CaseWork:
    def __init__(self, desk: DeskConfig, roster: Roster, clock: Clock, sla: SlaTracker) -> None:
        self.desk = desk
        self.roster = roster
        self.clock = clock
        self.sla = sla
        self.guards = Guards(desk, roster, clock)

    def lock(self, session: Session, number: int) -> Case:
        """The case, its row locked until the transaction ends (CaseNotFound if none)."""
        return self.guards.lock(session, number)

    def get(self, session: Session, number: int) -> Case:
        return self.guards.get(session, number)

    def check(self, session: Session, *, number: int, actor_id: str, action: CaseAction) -> Case:
        """Refuse early, before a modal is opened for a change the user may not make."""
        case = self.guards.get(session, number)
        if action is CaseAction.REOPENED:
            self.guards.reopenable(case, actor_id)
            return case
        self.guards.open(case, action)
        self.guards.agent(case, actor_id, action)
        return case

    def team(self, key: str) -> Team:
        """The team named `key`, or UnknownChoice naming the teams there are."""
        return self.guards.team(key)

    def _changing(self, session: Session, number: int, actor: Actor, action: CaseAction) -> Case:
        """The case locked for an agent's change: it must be open and the actor an agent."""
        case = self.guards.lock(session, number)
        self.guards.open(case, action)
        self.guards.agent(case, actor.user_id, action)
        return case

    def _draft(self, case: Case, actor: Actor) -> Draft:
        return Draft(case, actor, actor.moment(case, self.clock.now()))

    def finish(
        self,
        session: Session,
        draft: Draft,
        *,
        activity: bool = True,
        refresh_sla: bool = True,
        new: bool = False,
    ) -> CaseChange:
        """Append the draft's events; any change may start, pause or move an SLA clock, and
        replaying the case's history is cheap and exact. A `new` case's whole history is the
        draft, and no alert was decided for it yet: nothing to read back."""
        if activity:
            draft.case.last_activity_at = draft.now
        session.add_all(draft.events)
        session.flush()
        if refresh_sla and new:
            history = sorted(draft.events, key=lambda event: (event.at, event.id))
            self.sla.refresh_from(draft.case, history, set(), draft.now)
        elif refresh_sla:
            self.sla.refresh(session, draft.case, draft.now)
        return CaseChange(case=draft.case, events=draft.events)
