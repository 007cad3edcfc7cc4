"""What the scheduler decides and delivers: SLA alerts, the Slack outbox, the leader lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

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
    """A Slack write decided in a transaction and delivered after it commits.

    `op` is what is done in Slack: `post` a message, `update` or `delete` the one at
    `target_ts`. Cards (`kind` card / card_update) are rendered from the case when they are
    delivered, so the latest state always wins; rows `in_case_thread` are posted in the thread
    of the case's card, whenever that card exists.

    States: pending -> sending -> sent (or failed, or superseded by a later card update).
    A `sending` row is held by one deliverer (`claim_token`) for IN_DOUBT_AFTER from
    `sending_since`; after that it is "in doubt": the post may have happened, so the channel's
    history is searched for its metadata before it is sent again, and never twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # card, case_thread, sla_breach, summary_daily..
    op: Mapped[str] = mapped_column(String(16), default="post", server_default="post")
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    target_ts: Mapped[str | None] = mapped_column(String(32))  # the message an update changes
    in_case_thread: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # text and blocks
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    __table_args__ = (
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_case_id_kind", "case_id", "kind"),
    )


class SchedulerLease(Base):
    """Which process runs the scheduler's jobs; others wait until the lease expires."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
