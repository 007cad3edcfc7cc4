"""Measured response and resolution times on cases, CSAT answers, posted summaries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:08:45.103739
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "csat_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_csat_responses_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_responses")),
        sa.UniqueConstraint("case_id", name=op.f("uq_csat_responses_case_id")),
    )
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_csat_responses_answered_at"), ["answered_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_csat_responses_team_key"), ["team_key"], unique=False)

    op.create_table(
        "summary_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_summary_posts_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_posts")),
        sa.UniqueConstraint(
            "team_key",
            "kind",
            "period_start",
            name=op.f("uq_summary_posts_team_key_kind_period_start"),
        ),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_responder_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("first_response_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_response_breached", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("resolution_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_breached", sa.Boolean(), nullable=True))
        batch_op.create_index("ix_cases_team_closed_at", ["team_key", "closed_at"], unique=False)
        batch_op.create_index("ix_cases_team_opened_at", ["team_key", "opened_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_team_opened_at")
        batch_op.drop_index("ix_cases_team_closed_at")
        batch_op.drop_column("resolution_breached")
        batch_op.drop_column("resolution_seconds")
        batch_op.drop_column("first_response_breached")
        batch_op.drop_column("first_response_seconds")
        batch_op.drop_column("first_responder_id")

    op.drop_table("summary_posts")
    with op.batch_alter_table("csat_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csat_responses_team_key"))
        batch_op.drop_index(batch_op.f("ix_csat_responses_answered_at"))

    op.drop_table("csat_responses")
