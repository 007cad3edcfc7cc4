"""Routing: agents away from automatic assignment, and each team's round-robin turn.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents_away",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agents_away")),
    )
    op.create_table(
        "team_turns",
        sa.Column("team_key", sa.String(length=64), nullable=False),
        sa.Column("last_agent_id", sa.String(length=32), nullable=True),
        sa.Column("turned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_key", name=op.f("pk_team_turns")),
    )


def downgrade() -> None:
    op.drop_table("team_turns")
    op.drop_table("agents_away")
