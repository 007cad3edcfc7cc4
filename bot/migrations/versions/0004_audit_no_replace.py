"""Audit trail: refuse SQLite's INSERT OR REPLACE over an existing event.

SQLite runs REPLACE as delete-then-insert without firing delete triggers (unless
recursive_triggers is on), which slipped past the append-only triggers of 0001.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return  # PostgreSQL's ON CONFLICT DO UPDATE already meets the UPDATE trigger
    op.execute(
        "CREATE TRIGGER case_events_no_replace BEFORE INSERT ON case_events "
        "WHEN EXISTS (SELECT 1 FROM case_events WHERE id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'case_events is append-only (REPLACE refused)'); END"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER case_events_no_replace")
