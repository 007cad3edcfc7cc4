"""Reading cases: the lists of `/case list` and App Home, and a case's latest events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.cases.refusals import Outdated, UnknownChoice
from models import MAX_CASE_NUMBER, OPEN_STATUSES, Case, CaseEvent, CaseStatus

LIST_VIEWS = ("open", "mine", "unassigned", "escalated", "pending", "closed")


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    offset: int
    has_more: bool


def list_cases(
    session: Session,
    *,
    view: str,
    user_id: str,
    team_key: str | None = None,
    offset: int = 0,
    limit: int = 10,
) -> CasePage:
    """One page of a list view, newest activity first."""
    if not 0 <= offset <= MAX_CASE_NUMBER:  # from a button: anything else is not our page
        raise Outdated("list")
    query = _list_query(view, user_id).order_by(Case.last_activity_at.desc(), Case.id.desc())
    if team_key:
        query = query.where(Case.team_key == team_key)
    rows = list(session.scalars(query.offset(offset).limit(limit + 1)))
    return CasePage(cases=rows[:limit], offset=offset, has_more=len(rows) > limit)


def requested_by(session: Session, user_id: str, *, limit: int) -> list[Case]:
    """The cases someone asked for: open ones first, then the latest closed."""
    still_open = Case.status.in_(OPEN_STATUSES)
    return list(
        session.scalars(
            select(Case)
            .where(Case.requester_id == user_id)
            .order_by(still_open.desc(), Case.last_activity_at.desc(), Case.id.desc())
            .limit(limit)
        )
    )


def latest_events(session: Session, number: int, *, limit: int = 10) -> list[CaseEvent]:
    """The case's latest events, oldest first."""
    latest = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == number)
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(latest))


def _list_query(view: str, user_id: str) -> Select[Case]:
    not_closed = Case.status.in_(OPEN_STATUSES)
    filters: dict[str, list[ColumnElement[bool]]] = {
        "open": [not_closed],
        "mine": [not_closed, Case.assignee_id == user_id],
        "unassigned": [not_closed, Case.assignee_id.is_(None)],
        "escalated": [not_closed, Case.escalation_level > 0],
        "pending": [Case.status == CaseStatus.PENDING],
        "closed": [Case.status == CaseStatus.CLOSED],
    }
    if view not in filters:
        raise UnknownChoice("list", view, LIST_VIEWS)
    return select(Case).where(*filters[view])
