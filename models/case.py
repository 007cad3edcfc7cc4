"""The support case: its current state plus the timestamps the KPIs are computed from."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class CaseSource(enum.StrEnum):
    """How a case came in: typed, a form, or from a Slack message (a shortcut, an emoji
    reaction, a message in a help channel)."""

    COMMAND = "command"
    FORM = "form"
    SHORTCUT = "shortcut"
    EMOJI = "emoji"
    CHANNEL = "channel"


# Case numbers are INTEGER columns: a number past this one points at no case, on any database.
MAX_CASE_NUMBER = 2**31 - 1

# Spelled as a list rather than "!= closed" so queries can use the (team, status, ...) index.
OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.PENDING)


class Case(Base):
    __tablename__ = "cases"

    # The case number users type (`/case claim 42`) is the primary key.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    team_key: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[CaseStatus] = mapped_column(
        Enum(
            CaseStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        )
    )
    requester_id: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    # Kept for first-contact resolution: who took the case first.
    first_assignee_id: Mapped[str | None] = mapped_column(String(32))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    pending_reason: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)

    # Where the case was asked for, and where its card (and so its thread) lives now.
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[CaseSource] = mapped_column(
        Enum(
            CaseSource, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        default=CaseSource.COMMAND,
        server_default=CaseSource.COMMAND.value,
    )
    # A case opened from a Slack message: that message, and the thread that is the
    # requester's conversation (the message's own, or the thread it was a reply in), where
    # the requester is answered. None for cases opened with /case or the form: their card's
    # thread is the conversation.
    conversation_channel_id: Mapped[str | None] = mapped_column(String(32))
    conversation_ts: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    message_permalink: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))

    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_responder_id: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(32))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # SLA timers, recomputed from the audit trail on every change. Set only while a timer runs.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The earliest of the four moments above not yet alerted: the scheduler's one indexed query.
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    # Measured once a target is reached, in business time of the SLA calendar (wall time where
    # the case has no policy; time pending never counts toward resolution). The KPIs
    # aggregate these in SQL.
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    # Each SLA target counts in the period in which it was met or came due, whichever was
    # first: `*_settled_at` is that moment (met in time: when it was met; otherwise when its
    # budget was used up, or, while its clock runs, will be). `*_breached` is False for a
    # target met in time, True for one missed (met late, or stopped or paused after coming
    # due), None while its clock runs (a miss once `*_settled_at` has passed) and where no
    # target applies or none can be said yet (paused within its budget; a case closed
    # unanswered before its first response came due): then `*_settled_at` is None too.
    first_response_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_breached: Mapped[bool | None] = mapped_column(Boolean)
    resolution_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_cases_team_status_activity", "team_key", "status", "last_activity_at"),
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        Index("ix_cases_last_activity_at", "last_activity_at"),
        Index("ix_cases_team_opened_at", "team_key", "opened_at"),
        Index("ix_cases_team_closed_at", "team_key", "closed_at"),
        Index("ix_cases_team_first_response_at", "team_key", "first_response_at"),
        # SLA attainment counts a team's targets by the moment they settled, with their
        # outcome in the index: an index-only range per target and period.
        Index(
            "ix_cases_team_first_response_settled",
            "team_key",
            "first_response_settled_at",
            "first_response_breached",
        ),
        Index(
            "ix_cases_team_resolution_settled",
            "team_key",
            "resolution_settled_at",
            "resolution_breached",
        ),
    )

    @property
    def is_closed(self) -> bool:
        return self.status is CaseStatus.CLOSED

    @property
    def reference(self) -> str:
        return f"#{self.id}"

    @property
    def from_message(self) -> bool:
        return self.conversation_ts is not None

    def is_conversation(self, channel_id: str, thread_ts: str) -> bool:
        """Whether this thread is the requester's conversation (for a case from a message)."""
        return (channel_id, thread_ts) == (self.conversation_channel_id, self.conversation_ts)


class CaseThread(Base):
    """Every Slack thread that belongs to a case.

    A case moved to another team gets a new card (and thread) in that team's channel; replies
    in the old thread must still find the case, so threads are kept here, not only on the case.
    """

    __tablename__ = "case_threads"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)


class CaseMessage(Base):
    """Every Slack message that is a case's request: the one the case was opened from and
    the follow-ups that joined it. Its key makes a message a case exactly once, whatever
    asks for it (a retried event, a double click, a reaction and a shortcut, two
    processes)."""

    __tablename__ = "case_messages"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    # When the message was written, by its Slack ts: follow-ups are grouped by it.
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_case_messages_channel_author_at", "channel_id", "author_id", "at"),)
