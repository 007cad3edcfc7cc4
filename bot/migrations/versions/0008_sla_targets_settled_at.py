"""SLA attainment counts every target in the period it was met or came due: the moment each
target of a case settled (`first_response_settled_at`, `resolution_settled_at`), indexed per
team with the outcome, and `*_breached` also for targets that came due and were never met.

The backfill reads what the cases and their breach alerts say, without replaying histories
(the bot recomputes a case exactly with its next change): a running clock settles at its due
time; a target met in time at the moment it was met; one met late at the due time of its
latest breach alert before that moment (the moment it was met when no alert was decided); a
target never met, whose clock stopped or is paused, at its latest breach alert's due time, as
a miss.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
cases = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("first_response_at", _TIME),
    sa.column("closed_at", _TIME),
    sa.column("first_response_due_at", _TIME),
    sa.column("resolution_due_at", _TIME),
    sa.column("first_response_breached", sa.Boolean),
    sa.column("resolution_breached", sa.Boolean),
    sa.column("first_response_settled_at", _TIME),
    sa.column("resolution_settled_at", _TIME),
)
alerts = sa.table(
    "sla_alerts",
    sa.column("case_id", sa.Integer),
    sa.column("target", sa.String),
    sa.column("kind", sa.String),
    sa.column("due_at", _TIME),
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_settled_at", _TIME, nullable=True))
        batch_op.add_column(sa.Column("resolution_settled_at", _TIME, nullable=True))
    _backfill()
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_team_first_response_settled",
            ["team_key", "first_response_settled_at", "first_response_breached"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_team_resolution_settled",
            ["team_key", "resolution_settled_at", "resolution_breached"],
            unique=False,
        )


def _last_breach(target: str, met: sa.ColumnElement[object] | None) -> sa.ScalarSelect[object]:
    """The due time of the case's latest breach alert of `target` (before `met`, if given)."""
    conditions = [alerts.c.case_id == cases.c.id, alerts.c.target == target]
    conditions.append(alerts.c.kind == "breach")
    if met is not None:
        conditions.append(alerts.c.due_at <= met)
    return sa.select(sa.func.max(alerts.c.due_at)).where(*conditions).scalar_subquery()


def _backfill() -> None:
    """Both targets, in one pass over the cases (every SET reads the row as it was)."""
    answered = cases.c.first_response_at.is_not(None)
    closed = cases.c.status == "closed"
    first_unmet = sa.and_(cases.c.first_response_due_at.is_(None), ~answered)
    final_unmet = sa.and_(cases.c.resolution_due_at.is_(None), ~closed)
    op.execute(
        sa.update(cases).values(
            first_response_settled_at=sa.case(
                (cases.c.first_response_due_at.is_not(None), cases.c.first_response_due_at),
                (cases.c.first_response_breached.is_(False), cases.c.first_response_at),
                (
                    cases.c.first_response_breached.is_(True),
                    sa.func.coalesce(
                        _last_breach("first_response", cases.c.first_response_at),
                        cases.c.first_response_at,
                    ),
                ),
                (first_unmet, _last_breach("first_response", None)),
            ),
            first_response_breached=sa.case(
                (sa.and_(first_unmet, _last_breach("first_response", None).is_not(None)), True),
                else_=cases.c.first_response_breached,
            ),
            resolution_settled_at=sa.case(
                (cases.c.resolution_due_at.is_not(None), cases.c.resolution_due_at),
                (sa.and_(closed, cases.c.resolution_breached.is_(False)), cases.c.closed_at),
                (
                    sa.and_(closed, cases.c.resolution_breached.is_(True)),
                    sa.func.coalesce(
                        _last_breach("resolution", cases.c.closed_at), cases.c.closed_at
                    ),
                ),
                (final_unmet, _last_breach("resolution", None)),
            ),
            resolution_breached=sa.case(
                (sa.and_(final_unmet, _last_breach("resolution", None).is_not(None)), True),
                else_=cases.c.resolution_breached,
            ),
        )
    )


def downgrade() -> None:
    # Before 0008 `*_breached` was only set once a target was reached.
    op.execute(
        sa.update(cases)
        .where(cases.c.first_response_at.is_(None))
        .values(first_response_breached=None)
    )
    op.execute(sa.update(cases).where(cases.c.status != "closed").values(resolution_breached=None))
    op.drop_index("ix_cases_team_resolution_settled", table_name="cases")
    op.drop_index("ix_cases_team_first_response_settled", table_name="cases")
    # In place on both databases (SQLite 3.35+): rebuilding `cases` would need every table
    # that refers to it rebuilt too.
    for column in ("resolution_settled_at", "first_response_settled_at"):
        op.execute(f"ALTER TABLE cases DROP COLUMN {column}")
