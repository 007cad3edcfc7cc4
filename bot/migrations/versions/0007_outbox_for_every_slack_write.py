"""The outbox carries every Slack write: updates and deletes, card renders, case threads,
and the claim token of the deliverer that holds a row. Interactive requests are kept in
`slack_requests` until their work is done.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_requests",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("raw_body", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_requests")),
    )
    with op.batch_alter_table("slack_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_slack_requests_done_at_claimed_until", ["done_at", "claimed_until"], unique=False
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("op", sa.String(length=16), server_default="post", nullable=False)
        )
        batch_op.add_column(sa.Column("target_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("in_case_thread", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_outbox_case_id_kind", ["case_id", "kind"], unique=False)


def downgrade() -> None:
    # Code before 0007 takes every queued row for a post of its payload: rows it cannot
    # deliver so (updates, deletes, cards rendered on delivery, posts in a case's thread)
    # must not go out as posts.
    op.execute(
        "UPDATE outbox SET state = 'failed', last_error = 'not deliverable before 0007' "
        "WHERE state IN ('pending', 'sending') AND (op <> 'post' OR in_case_thread "
        "OR kind IN ('card', 'card_update'))"
    )
    op.drop_table("slack_requests")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_case_id_kind")
        batch_op.drop_column("claim_token")
        batch_op.drop_column("in_case_thread")
        batch_op.drop_column("target_ts")
        batch_op.drop_column("op")
