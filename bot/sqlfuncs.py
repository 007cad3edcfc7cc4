"""SQL the two databases spell differently: `percentile(fraction, column)`.

PostgreSQL has `percentile_cont(f) WITHIN GROUP (ORDER BY x)`. SQLite has no percentile, so a
small aggregate with the same interpolation is registered on every SQLite connection (see
`bot.db`); the percentile is still computed inside the database, over the rows of the query.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Float, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_PERCENTILE = "casedesk_percentile"


class percentile(FunctionElement[float]):  # noqa: N801 (reads like the SQL function it is)
    """The continuous percentile (0 <= fraction <= 1) of a numeric column, NULLs ignored."""

    type = Float()
    inherit_cache = True
    name = "percentile"

    def __init__(self, fraction: float, column: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be within 0 and 1")
        self.fraction = float(fraction)
        super().__init__(column)


@compiles(percentile, "postgresql")
def _percentile_postgresql(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"percentile_cont({element.fraction!r}) WITHIN GROUP (ORDER BY {column})"


@compiles(percentile, "sqlite")
def _percentile_sqlite(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"{SQLITE_PERCENTILE}({column}, {element.fraction!r})"


class SqlitePercentile:
    """The SQLite aggregate behind `percentile`: linear interpolation, like percentile_cont."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        position = self.fraction * (len(ordered) - 1)
        lower, upper = math.floor(position), math.ceil(position)
        weight = position - lower
        return ordered[lower] + (ordered[upper] - ordered[lower]) * weight


def insert_unless_exists(
    session: Session, table: Table, values: dict[str, Any], unique: list[str]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite spell it alike): True if this
    call inserted the row, False if a row with the same `unique` key was already there. No
    savepoint needed, so deciding something exactly once costs one statement."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(table.c.id)
    )
    return session.execute(statement).first() is not None
