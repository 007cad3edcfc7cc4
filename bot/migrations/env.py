"""Alembic environment. The engine comes from `bot.migrate` (or DATABASE_URL for the CLI)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine

from bot.db import Database
from bot.runtime.settings import DEFAULT_DATABASE_URL
from models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    return Database(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)).engine


def run_migrations() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
