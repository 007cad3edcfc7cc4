"""The record of team summaries decided, one per team, kind and period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class SummaryPost(Base):
    """A team summary for one period, decided once: the unique key stops a second post."""

    __tablename__ = "summary_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # daily | weekly
    period_start: Mapped[date] = mapped_column(Date)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))

    __table_args__ = (UniqueConstraint("team_key", "kind", "period_start"),)
