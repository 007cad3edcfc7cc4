"""Engine, sessions and the one place that commits: `Database.unit_of_work()`."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.sqlfuncs import SQLITE_PERCENTILE, SqlitePercentile

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections kept open for the work, and for the acks' writes; on PostgreSQL each pool grows
# by a quarter (acks: a half) under bursts. Enough that work rarely opens a connection of its
# own (a new PostgreSQL connection costs more than the query it is for), few enough that two
# replicas fit in PostgreSQL's default 100 connections (42 a process, 32 a worker with
# `--workers 2`: docs/deploy.md). `serve` sizes the work's from its work threads.
WORK_POOL_SIZE = 24
ACK_POOL_SIZE = 8


class Database:
    """Owns the engine. Services get a session from `unit_of_work()` and never commit themselves,
    so several service calls can share one transaction and a failure rolls all of them back."""

    def __init__(self, url: str, *, pool_size: int = WORK_POOL_SIZE, echo: bool = False) -> None:
        self.url = normalize_database_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self.engine = _create_engine(self.url, pool_size=pool_size, echo=echo)
        # SQLite has one writer at a time. Threads of this process wait their turn here, in
        # order, instead of in SQLite's busy handler, which sleeps in growing steps (up to
        # 100 ms) and so lets a waiting ack stall for a second or more under load.
        self._write_turn: AbstractContextManager[object] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        # Reads on SQLite take a deferred (shared) transaction instead of the write lock.
        self._reader = sessionmaker(
            self.engine.execution_options(casedesk_read_only=True), expire_on_commit=False
        )
        # The writes an ack waits for get connections of their own, so an ack never queues
        # behind work that holds every connection of the main pool. (SQLite has one writer
        # whatever the pool: there the ack's write simply takes its turn.)
        self._ack_engine = (
            self.engine
            if self.is_sqlite
            else _create_engine(
                self.url,
                pool_size=min(ACK_POOL_SIZE, pool_size),
                max_overflow=min(ACK_POOL_SIZE, pool_size) // 2,
                echo=echo,
            )
        )
        self._ack_writer = sessionmaker(self._ack_engine, expire_on_commit=False)

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine: the main one, and the acks' own on PostgreSQL."""
        if self._ack_engine is self.engine:
            return (self.engine,)
        return (self.engine, self._ack_engine)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        with self._write_turn, self._writer() as session, session.begin():
            yield session

    @contextmanager
    def ack_unit_of_work(self) -> Iterator[Session]:
        """A unit of work on an ack's path (keeping a request before it is acknowledged): on
        connections no other work holds."""
        with self._write_turn, self._ack_writer() as session, session.begin():
            yield session

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session for queries. Nothing is committed: closing it ends the transaction, and
        the objects it loaded stay readable afterwards (detached, not expired)."""
        with self._reader() as session:
            yield session

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


# `scheme://user:password@` (with or without the scheme), and `password=...` in a query or a
# libpq conninfo string: what is left to hide in a URL SQLAlchemy cannot parse, or in a driver's
# error message.
_CREDENTIALS = re.compile(r"(?P<head>(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^:/@\s]*:)\S*@")
_PASSWORD_PARAMETER = re.compile(r"(?P<head>password=)[^&\s]*", re.IGNORECASE)


def mask_credentials(text: str) -> str:
    """`text` (a database URL, or a message that may quote one) with every password shown as
    `***`: for messages and log lines."""
    try:
        url = make_url(text)
    except Exception:  # not a URL at all, or one SQLAlchemy cannot read: mask what looks like one
        shown = _CREDENTIALS.sub(r"\g<head>***@", text)
    else:
        shown = url.render_as_string(hide_password=True) if url.password else text
    return _PASSWORD_PARAMETER.sub(r"\g<head>***", shown)


class DatabaseUrlError(Exception):
    """The URL opens no database; the message says why, and never shows its password."""


def connect_database(url: str, *, pool_size: int = WORK_POOL_SIZE) -> Database:
    """The database at `url`, connected to once so that a wrong URL fails here."""
    shown = mask_credentials(url)
    try:
        database = Database(url, pool_size=pool_size)
        with database.engine.connect():
            pass
    except ModuleNotFoundError as error:
        raise DatabaseUrlError(f"no driver installed for it ({error.name})") from None
    except (ArgumentError, ValueError):  # unparseable, an unknown dialect, a port like "x"
        raise DatabaseUrlError(f"{shown!r} is not a database URL") from None
    except DBAPIError as error:  # unreachable, refused, or a connection option it rejects
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUrlError(f"cannot connect ({mask_credentials(reason)})") from None
    except OSError as error:  # SQLite: a folder that cannot be made
        raise DatabaseUrlError(f"cannot open {shown!r} ({error.strerror})") from None
    return database


def normalize_database_url(url: str) -> str:
    """Accept the `postgresql://` and `postgres://` URLs people paste, and drive them with
    psycopg 3 (the only PostgreSQL driver we install)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _create_engine(
    url: str, *, pool_size: int, echo: bool, max_overflow: int | None = None
) -> Engine:
    parsed = make_url(url)
    # A database error in a log line never quotes its parameters (what people typed).
    common: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    postgres = parsed.get_backend_name() != "sqlite"
    overflow = max(2, pool_size // (4 if postgres else 2)) if max_overflow is None else max_overflow
    pooled: dict[str, Any] = {"pool_size": pool_size, "max_overflow": overflow}
    if postgres:
        # A ping on each checkout (about 0.08 ms of CPU, 2-3% of a request): after a restart
        # or failover of PostgreSQL no one's command fails on a connection it closed.
        engine = create_engine(url, pool_pre_ping=True, **pooled, **common)
        _configure_postgres(engine)
        return engine
    common["connect_args"] = {
        "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        "check_same_thread": False,
    }
    if not parsed.database or parsed.database == ":memory:":
        # One shared connection, or every session would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, **common)
    else:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **pooled, **common)
    _configure_sqlite(engine)
    return engine


def _configure_postgres(engine: Engine) -> None:
    """JIT compilation off for our sessions. Its cost model counts every correlated subquery
    as if it ran over the whole table, so the KPI queries (a few thousand index lookups, tens of
    milliseconds) crossed the threshold and spent 300 ms compiling: see bench/summary_bench.py."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and write transactions that take the lock up front.

    pysqlite's own transaction handling starts transactions lazily, so two writers can both read
    and then collide when upgrading to a write lock ("database is locked"). We turn it off and
    issue `BEGIN IMMEDIATE` ourselves: writers queue on the busy timeout instead of failing.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_aggregate(SQLITE_PERCENTILE, 2, SqlitePercentile)

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("casedesk_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def scratch_schema(url: str, *, prefix: str) -> Iterator[str]:
    """A throwaway PostgreSQL schema for tests and benchmarks: yields a URL whose connections
    use it (through `search_path`), and drops it with everything in it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    schema_url = use_schema(url, schema)
    try:
        yield schema_url
    finally:
        admin = Database(url, pool_size=1)
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def use_schema(url: str, schema: str) -> str:
    """Make the PostgreSQL schema if it is missing; returns a URL whose connections use it
    (through `search_path`)."""
    admin = Database(url, pool_size=1)
    try:
        with admin.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        admin.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"
