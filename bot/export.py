"""`python -m bot export`: every case of a team with its timestamps and KPI fields, streamed.

Rows are read with a server-side cursor (PostgreSQL) or in chunks (SQLite) and written as they
come, so a million cases export in constant memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select

from bot.db import Database
from models import Case, CsatResponse

FIELDS = (
    "case",
    "team",
    "priority",
    "status",
    "title",
    "requester",
    "assignee",
    "first_assignee",
    "first_responder",
    "escalation_level",
    "reopen_count",
    "opened_at",
    "first_response_at",
    "first_response_seconds",
    "first_response_breached",
    "closed_at",
    "closed_by",
    "resolution_seconds",
    "resolution_breached",
    "csat_rating",
    "csat_comment",
)
CHUNK = 2000


def export_cases(
    db: Database, *, team_key: str, start: datetime, end: datetime, fmt: str, out: TextIO
) -> int:
    """Write the team's cases opened in [start, end) to `out`; returns how many."""
    writer = _writer(fmt, out)
    count = 0
    for row in _rows(db, team_key=team_key, start=start, end=end):
        writer(dict(zip(FIELDS, (_plain(value) for value in row), strict=True)))
        count += 1
    out.flush()
    return count


def _rows(db: Database, *, team_key: str, start: datetime, end: datetime) -> Iterator[Any]:
    query = (
        select(
            Case.id,
            Case.team_key,
            Case.priority,
            Case.status,
            Case.title,
            Case.requester_id,
            Case.assignee_id,
            Case.first_assignee_id,
            Case.first_responder_id,
            Case.escalation_level,
            Case.reopen_count,
            Case.opened_at,
            Case.first_response_at,
            Case.first_response_seconds,
            Case.first_response_breached,
            Case.closed_at,
            Case.closed_by,
            Case.resolution_seconds,
            Case.resolution_breached,
            CsatResponse.rating,
            CsatResponse.comment,
        )
        .outerjoin(CsatResponse, CsatResponse.case_id == Case.id)
        .where(Case.team_key == team_key, Case.opened_at >= start, Case.opened_at < end)
        .order_by(Case.id)
        .execution_options(yield_per=CHUNK)
    )
    with db.read_only() as session:
        yield from session.execute(query)


def _writer(fmt: str, out: TextIO) -> Any:
    if fmt == "jsonl":
        return lambda record: out.write(json.dumps(record, ensure_ascii=False) + "\n")
    csv_writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    csv_writer.writeheader()
    return lambda record: csv_writer.writerow({k: _inert(v) for k, v in record.items()})


def _inert(value: Any) -> Any:
    """Spreadsheets run a cell starting with = + - @ as a formula; a requester's title must
    stay text, so such cells get a leading apostrophe (OWASP's advice for CSV)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value
