"""Cases from conversations: how each case came in (`cases.source`), the Slack message a case
was opened from and the thread that is the requester's conversation, and `case_messages`,
whose key makes one message one case.

Cases already there came in by `/case open` or the form: the backfill tells them apart by
the source of their `opened` event.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("source", sa.String))
events = sa.table(
    "case_events",
    sa.column("case_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("source", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="command")
        )
        batch_op.add_column(sa.Column("conversation_channel_id", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("conversation_ts", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("message_ts", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("message_permalink", sa.Text(), nullable=True))
    opened_by_form = sa.exists().where(
        events.c.case_id == cases.c.id, events.c.action == "opened", events.c.source == "modal"
    )
    op.execute(sa.update(cases).where(opened_by_form).values(source="form"))
    op.create_table(
        "case_messages",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_messages_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("channel_id", "message_ts", name=op.f("pk_case_messages")),
    )
    op.create_index(op.f("ix_case_messages_case_id"), "case_messages", ["case_id"], unique=False)
    op.create_index(
        "ix_case_messages_channel_author_at",
        "case_messages",
        ["channel_id", "author_id", "at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_case_messages_channel_author_at", table_name="case_messages")
    op.drop_index(op.f("ix_case_messages_case_id"), table_name="case_messages")
    op.drop_table("case_messages")
    # In place on both databases (SQLite 3.35+), as 0008 does.
    for column in (
        "message_permalink",
        "message_ts",
        "conversation_ts",
        "conversation_channel_id",
        "source",
    ):
        op.execute(f"ALTER TABLE cases DROP COLUMN {column}")
