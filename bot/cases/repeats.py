"""A case asked for twice: the same person, the same request, the same channel, moments apart.

That is a retry (Slack showed a timeout, an error made the person try again), not a second
case: `CaseService.open` refuses it with `JustOpened`, naming the case opened the first time.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Case

# How long an identical `/case open` (or open form) counts as a retry of the first.
REPEAT_OPEN_WINDOW = timedelta(minutes=2)


class JustOpened(Exception):
    """Refusal: this person opened this very case moments ago (no new case was opened)."""

    def __init__(self, number: int, team_key: str, opened_at: datetime) -> None:
        super().__init__(f"case #{number} was opened moments ago with the same request")
        self.number = number
        self.team_key = team_key
        self.opened_at = opened_at


def refuse_repeat(session: Session, draft: Case) -> None:
    """Raise JustOpened if `draft` (a case not yet added) repeats one opened in the window.

    Opens by one person are serialised first, so two identical requests at the same moment
    cannot both miss each other: SQLite writers already hold the database lock, PostgreSQL
    takes a transaction lock per requester."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_lock_key(draft.requester_id))))
    earlier = session.scalars(
        select(Case)
        .where(
            Case.team_key == draft.team_key,  # with opened_at: ix_cases_team_opened_at
            Case.opened_at >= draft.opened_at - REPEAT_OPEN_WINDOW,
            Case.requester_id == draft.requester_id,
            Case.origin_channel_id.is_not_distinct_from(draft.origin_channel_id),
            Case.title == draft.title,
            Case.description == draft.description,
            Case.priority == draft.priority,
        )
        .order_by(Case.id.desc())
        .limit(1)
    ).first()
    if earlier is not None:
        raise JustOpened(earlier.id, earlier.team_key, earlier.opened_at)


def _lock_key(requester_id: str) -> int:
    """A signed 64-bit advisory lock key for one requester's opens."""
    digest = hashlib.sha256(f"casedesk:open:{requester_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
