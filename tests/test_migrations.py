"""Migrations: they build the schema the models describe, and upgrading a database that holds
history keeps that history. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from bot import migrate
from bot.db import Database, scratch_schema
from models import Base

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
