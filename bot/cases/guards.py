"""The checks every case change makes before it changes anything; each refuses with data."""

from __future__ import annotations

import enum

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from bot.cases.refusals import (
    CaseClosed,
    MissingText,
    OnlyAgents,
    OnlyRequesterOrAgent,
    UnknownChoice,
    WrongStatus,
)
from bot.clock import Clock
from bot.desk import DeskConfig, Team
from bot.refusals import CaseNotFound
from bot.roster import Roster
from models import Case, CaseAction, CaseStatus

# In a session's `info`: the cases this transaction holds locked.
_LOCKED = "casedesk_locked_cases"


@event.listens_for(Session, "after_soft_rollback")
def _forget_locks(session: Session, _previous: SessionTransaction) -> None:
    """A rollback (of a savepoint too) may have let go of locks, and expired what it undid:
    the next lock reads the case again."""
    session.info.pop(_LOCKED, None)


class Audience(enum.StrEnum):
    """Who a kind of case work is for."""

    ANYONE = "anyone"
    REQUESTER_OR_TEAM = "requester_or_team"  # the requester, or the team's agents and managers
    TEAM = "team"  # the team's agents and managers


class Guards:
    def __init__(self, desk: DeskConfig, roster: Roster, clock: Clock) -> None:
        self.desk = desk
        self.roster = roster
        self.clock = clock

    def lock(self, session: Session, number: int) -> Case:
        """Load the case and lock its row until the transaction ends (SQLite already holds
        the database write lock from `BEGIN IMMEDIATE`). Locked once in a transaction, the
        case is the session's own from then on: a second lock reads nothing again."""
        locked: set[int] = session.info.setdefault(_LOCKED, set())
        if number in locked:
            held = session.get(Case, number)  # from the session's identity map
            if held is not None:
                return held
        case = session.scalars(
            select(Case)
            .where(Case.id == number)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if case is None:
            raise CaseNotFound(number)
        locked.add(number)
        return case

    def get(self, session: Session, number: int) -> Case:
        case = session.get(Case, number)
        if case is None:
            raise CaseNotFound(number)
        return case

    def team(self, key: str) -> Team:
        """The team named `key`, or UnknownChoice naming the teams there are."""
        if not isinstance(key, str) or key not in self.desk.teams:  # keys from buttons too
            raise UnknownChoice("team", str(key), tuple(self.desk.teams))
        return self.desk.team(key)

    def priority(self, priority: str) -> str:
        if priority not in self.desk.priorities:
            raise UnknownChoice("priority", priority, tuple(self.desk.priorities))
        return priority

    def open(self, case: Case, action: CaseAction) -> None:
        if case.is_closed:
            raise CaseClosed(case.id, action, case.closed_by, case.closed_at, self.clock.now())

    def reopenable(self, case: Case, user_id: str) -> None:
        if not case.is_closed:
            raise WrongStatus(case.id, case.status, CaseStatus.CLOSED)
        team = self.team(case.team_key)
        if user_id != case.requester_id and not self.roster.is_agent(team, user_id):
            raise OnlyRequesterOrAgent(team.name, case.id)

    def agent(self, case: Case, user_id: str, action: CaseAction) -> None:
        team = self.team(case.team_key)
        if not self.roster.is_agent(team, user_id):
            raise OnlyAgents(team.name, action)

    @staticmethod
    def text(text: str, action: CaseAction, case_id: int | None = None) -> str:
        """The words a change needs (a reason, a resolution...), or MissingText."""
        text = text.strip()
        if not text:
            raise MissingText(action, case_id)
        return text
