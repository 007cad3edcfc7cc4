"""SQL pieces the KPI queries share: conditions on teams, events and periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement, SQLCoreOperations

from models import Case, CaseAction, CaseEvent, CaseStatus

Condition = ColumnElement[bool]


Column = SQLCoreOperations[Any]


def for_team(team_key: str) -> Condition:
    return Case.team_key == team_key


def events_of(team_key: str, action: CaseAction) -> Condition:
    return and_(CaseEvent.team_key == team_key, CaseEvent.action == action)


def within(column: Column, start: datetime, end: datetime) -> Condition:
    return and_(column >= start, column < end)


def by(column: Column, until: datetime) -> Condition:
    """`column` no later than `until` (what was known by then: now, for the period reported)."""
    return column <= until


@dataclass(frozen=True)
class SlaTarget:
    """Where a case keeps one SLA target's settlement (see models/case.py)."""

    settled_at: Column
    breached: Column

    def known(self, until: datetime) -> Condition:
        """The target has settled by `until`: met or missed for good, or its clock still
        running past its due time (stored ahead: no miss before it has passed)."""
        return or_(self.breached.is_not(None), self.settled_at < until)

    def counted(self, start: datetime, end: datetime, until: datetime) -> Condition:
        """The target counts in [start, end), as far as is known by `until`."""
        return and_(within(self.settled_at, start, end), self.known(until))

    @property
    def met(self) -> Condition:
        return self.breached.is_(False)


FIRST_RESPONSE_SLA = SlaTarget(Case.first_response_settled_at, Case.first_response_breached)
RESOLUTION_SLA = SlaTarget(Case.resolution_settled_at, Case.resolution_breached)


def closed_in(start: datetime, end: datetime) -> Condition:
    return and_(Case.status == CaseStatus.CLOSED, within(Case.closed_at, start, end))


def owner_changes(case_id: Column, *, before: Column | None = None) -> ColumnElement[int]:
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


def first_contact() -> Condition:
    """The case, as it stands now, was resolved at first contact (the export's flag): closed
    by its first assignee, never escalated, reopened or handed to another owner.

    The ownership count is a correlated subquery, which the database only runs for the rows
    the other (cheap) conditions let through."""
    return and_(
        # Closed straight away, by an agent nobody had to assign it to, counts too.
        or_(Case.first_assignee_id.is_(None), Case.closed_by == Case.first_assignee_id),
        Case.escalation_level == 0,
        Case.reopen_count == 0,
        owner_changes(Case.id) <= 1,
    )
