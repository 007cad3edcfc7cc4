"""SQL pieces the KPI queries share: conditions on teams, events and periods."""

from __future__ import annotations

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


def before(column: Column, until: datetime | None) -> Condition:
    """`column` before `until`; no bound without one."""
    return column < until if until else true()


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
