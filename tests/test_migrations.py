"""Migrations: they build the schema the models describe, and upgrading a database that holds
history keeps that history. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from bot import migrate
from bot.db import Database, scratch_schema
from models import Base, Case

OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database no migration has touched yet."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/empty.db")
        yield db
        db.dispose()
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    with scratch_schema(url, prefix="casedesk_migrations") as schema_url:
        db = Database(schema_url)
        yield db
        db.dispose()


def test_migrations_build_the_schema_the_models_describe(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_upgrading_files_each_past_event_under_the_team_it_happened_in(
    empty_database: Database,
) -> None:
    db = empty_database
    migrate.upgrade(db, "0005")
    with db.engine.begin() as connection:
        # Case 1 was opened and closed in billing, reopened, handed to support, closed again.
        # Case 2 never left support.
        _insert_case(connection, 1, "support")
        _insert_case(connection, 2, "support")
        history = [
            (1, 1, "opened", None, None),
            (2, 1, "closed", None, None),
            (3, 1, "reopened", None, None),
            (4, 1, "escalated", None, None),
            (5, 1, "team_changed", "billing", "support"),
            (6, 1, "closed", None, None),
            (7, 2, "opened", None, None),
        ]
        for event_id, case_id, action, from_value, to_value in history:
            connection.execute(
                text(
                    "INSERT INTO case_events (id, case_id, at, actor_id, action, source, "
                    "from_value, to_value, details) VALUES (:id, :case_id, :at, 'U0AGENT1', "
                    ":action, 'command', :from_value, :to_value, '{}')"
                ),
                {
                    "id": event_id,
                    "case_id": case_id,
                    "at": (OPENED + timedelta(hours=event_id)).isoformat(),
                    "action": action,
                    "from_value": from_value,
                    "to_value": to_value,
                },
            )

    migrate.upgrade(db)

    with db.engine.connect() as connection:
        teams = connection.execute(text("SELECT id, team_key FROM case_events ORDER BY id")).all()
    assert [team for _, team in teams] == [
        "billing",
        "billing",
        "billing",
        "billing",
        "support",  # the hand-over itself happens as the case arrives in support
        "support",
        "support",
    ]


COLUMNS = "id, case_id, team_key, at, actor_id, action, source, details"
REWRITES = {
    "update": "UPDATE case_events SET team_key = 'x'",
    "delete": "DELETE FROM case_events",
    "replace": f"INSERT OR REPLACE INTO case_events ({COLUMNS}) "
    "SELECT id, case_id, team_key, at, 'U0FORGER', action, source, details FROM case_events",
    "upsert": f"INSERT INTO case_events ({COLUMNS}) "
    "SELECT id, case_id, team_key, at, 'U0FORGER', action, source, details FROM case_events "
    "WHERE true ON CONFLICT (id) DO UPDATE SET actor_id = excluded.actor_id",  # SQLite too
}


@pytest.mark.parametrize("rewrite", REWRITES)
def test_the_audit_trail_stays_append_only_after_upgrading(
    empty_database: Database, rewrite: str
) -> None:
    if rewrite == "replace" and not empty_database.is_sqlite:
        pytest.skip("INSERT OR REPLACE is SQLite's; PostgreSQL has the upsert")
    migrate.upgrade(empty_database)
    _insert_opened_case(empty_database)

    with (
        pytest.raises(DBAPIError, match="append-only"),
        empty_database.engine.begin() as connection,
    ):
        connection.execute(text(REWRITES[rewrite]))


def test_downgrading_and_upgrading_again_keeps_the_trail_and_its_guard(
    empty_database: Database,
) -> None:
    migrate.upgrade(empty_database)
    _insert_opened_case(empty_database)

    migrate.downgrade(empty_database, "0005")
    with empty_database.engine.connect() as connection:
        columns = connection.execute(text("SELECT * FROM case_events")).keys()
    assert "team_key" not in columns
    with (
        pytest.raises(DBAPIError, match="append-only"),
        empty_database.engine.begin() as connection,
    ):
        connection.execute(text("DELETE FROM case_events"))

    migrate.upgrade(empty_database)
    with empty_database.engine.connect() as connection:
        teams = connection.execute(text("SELECT team_key FROM case_events")).scalars().all()
    assert teams == ["support"]


def _insert_opened_case(db: Database) -> None:
    with db.engine.begin() as connection:
        _insert_case(connection, 1, "support")
        connection.execute(
            text(
                f"INSERT INTO case_events ({COLUMNS}) "
                "VALUES (1, 1, 'support', :at, 'U0REQ', 'opened', 'command', '{}')"
            ),
            {"at": OPENED.isoformat()},
        )


def _insert_case(connection: Connection, number: int, team_key: str) -> None:
    connection.execute(
        text(
            "INSERT INTO cases (id, title, description, team_key, priority, status, requester_id, "
            "escalation_level, reopen_count, opened_at, last_activity_at) VALUES (:id, 'Broken', "
            "'', :team, 'p3', 'in_progress', 'U0REQ', 0, 0, :at, :at)"
        ),
        {"id": number, "team": team_key, "at": OPENED.isoformat()},
    )


# 0008: when each SLA target settled
#
# Upgrading tells each existing case when its targets settled, from what the case and its
# breach alerts say: a running clock at its due time, a target met in time when it was met,
# one met late or never met at its breach alert's due time, as a miss.

HOUR = timedelta(hours=1)
TIME = sa.DateTime(timezone=True)

CASES = sa.table(
    "cases",
    *(sa.column(name) for name in ("id", "title", "description", "team_key", "priority")),
    *(sa.column(name) for name in ("status", "requester_id", "escalation_level", "reopen_count")),
    sa.column("opened_at", TIME),
    sa.column("last_activity_at", TIME),
    sa.column("first_response_at", TIME),
    sa.column("closed_at", TIME),
    sa.column("first_response_due_at", TIME),
    sa.column("resolution_due_at", TIME),
    sa.column("first_response_breached", sa.Boolean),
    sa.column("resolution_breached", sa.Boolean),
)
ALERTS = sa.table(
    "sla_alerts",
    *(sa.column(name) for name in ("case_id", "target", "kind")),
    sa.column("due_at", TIME),
    sa.column("decided_at", TIME),
)


def a_case(number: int, status: str, **times: object) -> dict[str, object]:
    blank: dict[str, object] = dict.fromkeys(
        ("first_response_at", "closed_at", "first_response_due_at", "resolution_due_at")
    )
    blank |= {"first_response_breached": None, "resolution_breached": None}
    return blank | {
        "id": number,
        "title": "Broken",
        "description": "",
        "team_key": "support",
        "priority": "p3",
        "status": status,
        "requester_id": "U0REQ",
        "escalation_level": 0,
        "reopen_count": 0,
        "opened_at": OPENED,
        "last_activity_at": OPENED,
        **times,
    }


def a_breach(number: int, target: str, due_at: datetime) -> dict[str, object]:
    return {"case_id": number, "target": target, "kind": "breach", "due_at": due_at}


@pytest.fixture
def upgraded(empty_database: Database) -> Database:
    """A database at 0007 with six cases, upgraded."""
    migrate.upgrade(empty_database, "0007")
    cases = [
        # 1: answered in 10 minutes, closed in an hour: both met in time.
        a_case(1, "closed", first_response_at=OPENED + HOUR / 6, first_response_breached=False,
               closed_at=OPENED + HOUR, resolution_breached=False),
        # 2: answered after 2 hours (alerted at 1 hour); its resolution clock runs.
        a_case(2, "in_progress", first_response_at=OPENED + 2 * HOUR,
               first_response_breached=True, resolution_due_at=OPENED + 8 * HOUR),
        # 3: never answered, its first response clock runs.
        a_case(3, "open", first_response_due_at=OPENED + HOUR,
               resolution_due_at=OPENED + 8 * HOUR),
        # 4: closed unanswered after its first response was alerted; closed late, no alert.
        a_case(4, "closed", closed_at=OPENED + 9 * HOUR, resolution_breached=True),
        # 5: answered in time; pending after its resolution was alerted at 8 hours.
        a_case(5, "pending", first_response_at=OPENED + HOUR / 2, first_response_breached=False),
        # 6: a team without SLA targets.
        a_case(6, "closed", first_response_at=OPENED + HOUR, closed_at=OPENED + 2 * HOUR),
    ]  # fmt: skip
    alerts = [
        a_breach(2, "first_response", OPENED + HOUR),
        a_breach(4, "first_response", OPENED + HOUR),
        a_breach(5, "resolution", OPENED + 8 * HOUR),
    ]
    with empty_database.engine.begin() as connection:
        connection.execute(sa.insert(CASES), cases)
        connection.execute(sa.insert(ALERTS), [{**a, "decided_at": a["due_at"]} for a in alerts])
    migrate.upgrade(empty_database)
    return empty_database


def test_upgrading_to_0008_settles_each_sla_target_of_the_cases_already_there(
    upgraded: Database,
) -> None:
    with upgraded.read_only() as session:
        cases = session.scalars(sa.select(Case).order_by(Case.id)).all()
        settled = [
            (
                case.id,
                case.first_response_settled_at,
                case.first_response_breached,
                case.resolution_settled_at,
                case.resolution_breached,
            )
            for case in cases
        ]

    assert settled == [
        (1, OPENED + HOUR / 6, False, OPENED + HOUR, False),
        (2, OPENED + HOUR, True, OPENED + 8 * HOUR, None),
        (3, OPENED + HOUR, None, OPENED + 8 * HOUR, None),
        (4, OPENED + HOUR, True, OPENED + 9 * HOUR, True),
        (5, OPENED + HOUR / 2, False, OPENED + 8 * HOUR, True),
        (6, None, None, None, None),
    ]


def test_downgrading_from_0008_leaves_the_measured_outcomes_as_they_were_before(
    upgraded: Database,
) -> None:
    migrate.downgrade(upgraded, "0007")

    with upgraded.engine.connect() as connection:
        columns = connection.execute(sa.text("SELECT * FROM cases")).keys()
        breached = connection.execute(
            sa.select(
                CASES.c.id, CASES.c.first_response_breached, CASES.c.resolution_breached
            ).order_by(CASES.c.id)
        ).all()
    assert "first_response_settled_at" not in columns
    assert [tuple(row) for row in breached] == [
        (1, False, False),
        (2, True, None),
        (3, None, None),
        (4, None, True),  # never answered: nothing measured before 0008
        (5, False, None),  # not closed
        (6, None, None),
    ]
