"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:56:41.303877

Cases, their threads and the append-only audit trail (enforced by triggers, so no code path,
however buggy, can rewrite history).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("team_key", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "pending",
                "closed",
                name="casestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("first_assignee_id", sa.String(length=32), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("pending_reason", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("origin_channel_id", sa.String(length=32), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.Column("opened_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pending_since", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_escalated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("reopened_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_assignee_status", ["assignee_id", "status"], unique=False)
        batch_op.create_index("ix_cases_last_activity_at", ["last_activity_at"], unique=False)
        batch_op.create_index(
            "ix_cases_team_status_activity",
            ["team_key", "status", "last_activity_at"],
            unique=False,
        )

    op.create_table(
        "processed_slack_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_slack_events")),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "opened",
                "claimed",
                "assigned",
                "unassigned",
                "escalated",
                "team_changed",
                "pending",
                "resumed",
                "closed",
                "reopened",
                "note",
                "responded",
                "customer_replied",
                "commented",
                name="caseaction",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "command",
                "button",
                "modal",
                "thread",
                "scheduler",
                name="eventsource",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("from_value", sa.Text(), nullable=True),
        sa.Column("to_value", sa.Text(), nullable=True),
        sa.Column("status_before", sa.String(length=16), nullable=True),
        sa.Column("status_after", sa.String(length=16), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index("ix_case_events_action_at", ["action", "at"], unique=False)
        batch_op.create_index("ix_case_events_case_id_at", ["case_id", "at"], unique=False)

    op.create_table(
        "case_threads",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_threads_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("channel_id", "thread_ts", name=op.f("pk_case_threads")),
    )
    with op.batch_alter_table("case_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_threads_case_id"), ["case_id"], unique=False)

    _forbid_audit_changes()


def _forbid_audit_changes() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION case_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'case_events is append-only (% refused)', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
            "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER case_events_no_{operation.lower()} BEFORE {operation} ON case_events "
            f"BEGIN SELECT RAISE(ABORT, 'case_events is append-only ({operation} refused)'); END"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER case_events_append_only ON case_events")
        op.execute("DROP FUNCTION case_events_append_only()")
    else:
        op.execute("DROP TRIGGER case_events_no_update")
        op.execute("DROP TRIGGER case_events_no_delete")
    with op.batch_alter_table("case_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_threads_case_id"))

    op.drop_table("case_threads")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_case_id_at")
        batch_op.drop_index("ix_case_events_action_at")

    op.drop_table("case_events")
    op.drop_table("processed_slack_events")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_team_status_activity")
        batch_op.drop_index("ix_cases_last_activity_at")
        batch_op.drop_index("ix_cases_assignee_status")

    op.drop_table("cases")
