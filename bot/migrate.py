"""Alembic, driven from code: `python -m bot db upgrade` and the start-up upgrade.

Configured here, from the installed package's own path, never from an alembic.ini or the
working directory: `casedesk db upgrade` works from any folder (alembic.ini at the repository
root is only for a developer running `alembic revision` by hand)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = _scripts()
    # Handed over as an object, not a string option, so URL escapes (%40) survive.
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(database), revision)


def downgrade(database: Database, revision: str) -> None:
    command.downgrade(alembic_config(database), revision)


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_scripts()).get_current_head()


def _scripts() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
