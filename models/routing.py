"""Who takes new cases: agents away from automatic assignment, and each team's turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class AgentAway(Base):
    """An agent out of automatic assignment (they may still claim by hand), until they are
    back, or until `until` has passed."""

    __tablename__ = "agents_away"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TeamTurn(Base):
    """Whose turn it is in a team's round robin: the agent who got the last case. Kept in the
    database and locked while a new case is assigned, so every process takes the same turn."""

    __tablename__ = "team_turns"

    team_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_agent_id: Mapped[str | None] = mapped_column(String(32))
    turned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
