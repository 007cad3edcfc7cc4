"""The append-only audit trail, and the Events API deliveries already handled."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class EventSource(enum.StrEnum):
    COMMAND = "command"
    BUTTON = "button"
    MODAL = "modal"
    THREAD = "thread"
    SHORTCUT = "shortcut"  # the "Open a case" message shortcut
    REACTION = "reaction"  # an emoji reaction on a message
    CHANNEL = "channel"  # a message in a help channel
    SCHEDULER = "scheduler"


class CaseAction(enum.StrEnum):
    OPENED = "opened"
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    ESCALATED = "escalated"
    TEAM_CHANGED = "team_changed"
    PENDING = "pending"
    RESUMED = "resumed"
    CLOSED = "closed"
    REOPENED = "reopened"
    NOTE = "note"
    RESPONDED = "responded"
    CUSTOMER_REPLIED = "customer_replied"
    COMMENTED = "commented"
    PRIORITY_CHANGED = "priority_changed"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    CSAT_REQUESTED = "csat_requested"
    CSAT_RATED = "csat_rated"
    NOBODY_AVAILABLE = "nobody_available"  # automatic assignment found no agent to take it


def _enum_column(enum_type: type[enum.StrEnum]) -> Enum:
    return Enum(
        enum_type, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e]
    )


class CaseEvent(Base):
    """One thing that happened to a case. Rows are never updated or deleted (database
    triggers enforce it), so this table is the history the metrics are computed from."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    # The case's team when this happened, so team KPIs count events without a join.
    team_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[CaseAction] = mapped_column(_enum_column(CaseAction))
    source: Mapped[EventSource] = mapped_column(_enum_column(EventSource))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    # Set only when the event changed the case's status, so status history is one query.
    status_before: Mapped[str | None] = mapped_column(String(16))
    status_after: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_case_events_case_id_at", "case_id", "at"),
        Index("ix_case_events_team_action_at", "team_key", "action", "at"),
    )


class ProcessedSlackEvent(Base):
    """Events API `event_id`s already handled, so Slack's retries are recorded once."""

    __tablename__ = "processed_slack_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlackRequest(Base):
    """A slash command, click or form submission, kept from the moment it arrives until its
    work is done: so a request is carried out once even when Slack (or an attacker) sends it
    again, and a request already acknowledged is still carried out after the process died."""

    __tablename__ = "slack_requests"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # from its trigger_id
    raw_body: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who works on it holds it until then; after that another process may carry it out.
    claimed_until: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_slack_requests_done_at_claimed_until", "done_at", "claimed_until"),)
