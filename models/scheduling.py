"""What the scheduler decides and delivers: SLA alerts, the Slack outbox, the leader lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class SlaAlert(Base):
    """One decided warning or breach. The unique key makes the decision happen exactly once,
    however many scheduler runs or processes race for it; a moved due time is a new key."""

    __tablename__ = "sla_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    target: Mapped[str] = mapped_column(String(32))  # first_response | resolution
    kind: Mapped[str] = mapped_column(String(16))  # warn | breach
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("case_id", "target", "kind", "due_at"),)


class OutboxMessage(Base):
    """A Slack message decided in a transaction and delivered after it commits.

    States: pending -> sending -> sent. A `sending` row whose process died is "in doubt": before
    it is re-sent, the channel's history is searched for its metadata, so it is never posted twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # sla_warn, sla_breach, sla_digest, ...
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # text and blocks
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Optional: update this case's card after delivery (breach marker).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)


class SchedulerLease(Base):
    """Which process runs the scheduler's jobs; others wait until the lease expires."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
