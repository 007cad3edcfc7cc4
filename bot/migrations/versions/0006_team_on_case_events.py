"""Audit events carry the team the case belonged to when they happened.

Team KPIs count events (closes, reopens, escalations, breaches, surveys) per team and period;
with the team on the event that is one index range, (team, action, time), instead of a join to
every case of the team. It is also the truer team: a close before a case was handed to another
team counts for the team that closed it.

Existing events are backfilled from the history: an event belongs to the team a later
team change moved the case away from, or else to the case's team now.

Upgrading rewrites the whole audit trail while holding a write lock on it (PostgreSQL: about
three minutes for seven million events on a two-core machine; SQLite rebuilds the table).
Stop the bot, run `python -m bot db upgrade`, then start the new version.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE case_events SET team_key = COALESCE(
    (SELECT later.from_value FROM case_events AS later
     WHERE later.case_id = case_events.case_id AND later.action = 'team_changed'
       AND later.id > case_events.id
     ORDER BY later.id LIMIT 1),
    (SELECT cases.team_key FROM cases WHERE cases.id = case_events.case_id)
)
"""
SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER case_events_no_{name} BEFORE {operation} ON case_events "
    "BEGIN SELECT RAISE(ABORT, 'case_events is append-only ({operation} refused)'); END"
)
SQLITE_NO_REPLACE = (
    "CREATE TRIGGER case_events_no_replace BEFORE INSERT ON case_events "
    "WHEN EXISTS (SELECT 1 FROM case_events WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'case_events is append-only (REPLACE refused)'); END"
)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.add_column("case_events", sa.Column("team_key", sa.String(length=64)))
        # The one sanctioned rewrite of the audit trail: filling in a new column.
        op.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")
        op.execute(BACKFILL)
        op.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only")
        op.alter_column("case_events", "team_key", nullable=False)
    else:
        # SQLite cannot make an added column NOT NULL in place: the table is rebuilt (which
        # drops its triggers, so they are made again afterwards).
        op.add_column("case_events", sa.Column("team_key", sa.String(length=64)))
        op.execute("DROP TRIGGER case_events_no_update")
        op.execute(BACKFILL)
        with op.batch_alter_table("case_events", recreate="always") as batch_op:
            batch_op.alter_column("team_key", existing_type=sa.String(64), nullable=False)
        _sqlite_triggers()
    op.drop_index("ix_case_events_action_at", table_name="case_events")
    op.create_index("ix_case_events_team_action_at", "case_events", ["team_key", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_case_events_team_action_at", table_name="case_events")
    op.create_index("ix_case_events_action_at", "case_events", ["action", "at"])
    if op.get_context().dialect.name == "postgresql":
        op.drop_column("case_events", "team_key")
        return
    with op.batch_alter_table("case_events", recreate="always") as batch_op:
        batch_op.drop_column("team_key")
    _sqlite_triggers()


def _sqlite_triggers() -> None:
    for operation in ("UPDATE", "DELETE"):
        op.execute(SQLITE_APPEND_ONLY.format(name=operation.lower(), operation=operation))
    op.execute(SQLITE_NO_REPLACE)
