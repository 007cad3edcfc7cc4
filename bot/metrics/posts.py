"""A summary post, decided once per team, kind and period, and whether it reached Slack.

The record (`summary_posts`, unique per team, kind and period) points at the outbox row that
carries the post, so "already posted" means delivered: a post still queued is said to be, and
one Slack refused for good may be posted again on demand. Forced again while its post is still
queued, a period's record keeps that outbox row, which carries the new post instead
(`bot.slack.outbox_claims.requeue`): one post reaches Slack, never two.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk import Team
from bot.metrics.periods import Period
from bot.metrics.sql import Condition
from models import OutboxMessage, SummaryPost


class Posting(enum.StrEnum):
    """What became of a summary asked for."""

    QUEUED = "queued"  # queued by this run, not tried yet
    POSTED = "posted"  # queued by this run (or queued earlier) and now in Slack
    ALREADY_POSTED = "already posted"  # in Slack since an earlier run
    NOT_DELIVERED = "not delivered"  # queued, Slack has not taken it yet: it is retried
    FAILED = "failed"  # Slack refused it for good
    NOT_OVER = "not over"  # the period has not ended
    TAKEN = "taken"  # another process decided it at the same moment
    BROKEN = "broken"  # making it failed (the figures, the chart)


DELIVERED = (Posting.POSTED, Posting.ALREADY_POSTED)


def all_delivered(outcomes: list[PostOutcome]) -> bool:
    """Whether every summary asked for is in Slack (queued is not enough)."""
    return all(outcome.posting in DELIVERED for outcome in outcomes)


@dataclass(frozen=True)
class PostOutcome:
    team: Team
    period: Period
    posting: Posting
    error: str = ""  # why Slack has not taken it (or why it broke)
    outbox_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    """The state of a period's post: its outbox row's state (None: no record) and error."""

    state: str | None
    error: str = ""
    outbox_id: int | None = None

    @property
    def posting(self) -> Posting | None:
        """What the record says about a post decided earlier; None: nothing decided."""
        if self.state is None:
            return None
        if self.state == "sent":
            return Posting.ALREADY_POSTED
        if self.state == "failed":
            return Posting.FAILED
        return Posting.NOT_DELIVERED  # pending, or sending (perhaps posted: looked for first)


def delivery(session: Session, team_key: str, period: Period) -> Delivery:
    row = session.execute(
        select(SummaryPost.id, OutboxMessage.id, OutboxMessage.state, OutboxMessage.last_error)
        .outerjoin(OutboxMessage, OutboxMessage.id == SummaryPost.outbox_id)
        .where(*_of(team_key, period))
    ).one_or_none()
    if row is None:
        return Delivery(None)
    _, outbox_id, state, error = row
    # A record without its row comes from before posts were tracked: it was posted then.
    return Delivery(state or "sent", error or "", outbox_id)


def claim_period(
    session: Session, team_key: str, period: Period, now: datetime, *, again: bool
) -> SummaryPost | None:
    """The period's record, locked, to queue its post under: a new one, or (`again`) the
    existing one; None if it exists and may not be posted again."""
    existing = session.scalars(
        select(SummaryPost).where(*_of(team_key, period)).with_for_update()
    ).one_or_none()
    if existing is not None:
        if not again:
            return None
        existing.decided_at = now
        return existing
    record = SummaryPost(
        team_key=team_key, kind=period.kind, period_start=period.first_day, decided_at=now
    )
    session.add(record)
    session.flush()  # the unique key decides here if two processes race
    return record


def _of(team_key: str, period: Period) -> tuple[Condition, ...]:
    return (
        SummaryPost.team_key == team_key,
        SummaryPost.kind == period.kind,
        SummaryPost.period_start == period.first_day,
    )
