"""One record per case, with its timestamps and KPI fields: what the export streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    RowMapping,
    case,
    label,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Label

from bot.metrics.sql import (
    FIRST_RESPONSE_SLA,
    RESOLUTION_SLA,
    Column,
    SlaTarget,
    first_contact,
    for_team,
    within,
)
from models import Case, CaseStatus, CsatResponse


def case_records(
    session: Session,
    *,
    team_key: str,
    start: datetime,
    end: datetime,
    now: datetime,
    chunk: int = 2000,
) -> Iterator[RowMapping]:
    """The team's cases opened in [start, end), oldest first, as `CASE_RECORD_FIELDS`, their
    SLA outcome as it stands at `now`. Streamed `chunk` rows at a time (a server-side cursor
    on PostgreSQL), so any number of cases is read in constant memory."""
    query = (
        select(*_case_record(now))
        .outerjoin(CsatResponse, CsatResponse.case_id == Case.id)
        .where(for_team(team_key), within(Case.opened_at, start, end))
        .order_by(Case.id)
        .execution_options(yield_per=chunk)
    )
    yield from session.execute(query).mappings()


def _case_record(now: datetime) -> list[Label[Any]]:
    """Every case as a record for spreadsheets and BI tools: the columns, named, in order."""
    first_contact_resolution = type_coerce(  # empty while the case is not closed
        case((Case.status == CaseStatus.CLOSED, first_contact())), Boolean
    )
    first, final = (_sla(target, now) for target in (FIRST_RESPONSE_SLA, RESOLUTION_SLA))
    fields: dict[str, Column] = {
        "case": Case.id,
        "team": Case.team_key,
        "priority": Case.priority,
        "status": Case.status,
        "title": Case.title,
        "requester": Case.requester_id,
        "assignee": Case.assignee_id,
        "first_assignee": Case.first_assignee_id,
        "first_responder": Case.first_responder_id,
        "escalation_level": Case.escalation_level,
        "reopen_count": Case.reopen_count,
        "opened_at": Case.opened_at,
        "first_response_at": Case.first_response_at,
        "first_response_seconds": Case.first_response_seconds,
        "first_response_breached": first.missed,
        "closed_at": Case.closed_at,
        "closed_by": Case.closed_by,
        "resolution_seconds": Case.resolution_seconds,
        "resolution_breached": final.missed,
        "csat_rating": CsatResponse.rating,
        "csat_comment": CsatResponse.comment,
        # Added later: new fields go last, so spreadsheets reading by position keep working.
        "claimed_at": Case.claimed_at,
        "last_escalated_at": Case.last_escalated_at,
        "reopened_at": Case.reopened_at,
        "first_contact_resolution": first_contact_resolution,
        "csat_answered_at": CsatResponse.answered_at,
        "first_response_settled_at": first.settled_at,
        "resolution_settled_at": final.settled_at,
        "source": Case.source,  # how it came in: command, form, shortcut, emoji, channel
    }
    return [label(name, column) for name, column in fields.items()]


@dataclass(frozen=True)
class _SlaOutcome:
    missed: Column  # True: missed; False: met in time; empty: not settled yet, or no target
    settled_at: Column  # when it counts in the KPIs; empty until then


def _sla(target: SlaTarget, now: datetime) -> _SlaOutcome:
    """A target as the KPIs count it at `now` (a running clock past its due time is a miss)."""
    counted = target.known(now)
    return _SlaOutcome(
        missed=type_coerce(case((counted, ~target.met)), Boolean),
        settled_at=case((counted, target.settled_at)),
    )


CASE_RECORD_FIELDS = tuple(column.name for column in _case_record(datetime.now(UTC)))
