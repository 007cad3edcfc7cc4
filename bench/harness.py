"""What the benchmark scripts share: the command line and the scratch databases."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bot.db import Database, scratch_schema, use_schema
from models import Case


def parser(description: str | None) -> argparse.ArgumentParser:
    """Options every benchmark takes; each script adds its own sizes."""
    options = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument(
        "--postgres", help="a PostgreSQL URL; a scratch schema is made and dropped"
    )
    options.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    options.add_argument(
        "--keep",
        metavar="NAME",
        help="keep the seeded data (PostgreSQL schema NAME, SQLite file NAME.db in the temp "
        "folder) so a later run with the same NAME skips seeding",
    )
    return options


def on_each_database(args: argparse.Namespace, bench: Callable[[str, Database], None]) -> None:
    """Run `bench` on a fresh SQLite file, then on a scratch PostgreSQL schema if asked."""
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(tempfile.gettempdir(), f"{args.keep}.db") if args.keep else None
            sqlite = Database(f"sqlite:///{path or Path(folder, 'bench.db')}")
            bench("sqlite", sqlite)
            sqlite.dispose()
    if args.postgres:
        # A kept schema outlives the run: seeding a million cases takes minutes, timing the
        # queries over them seconds.
        kept = nullcontext(use_schema(args.postgres, args.keep)) if args.keep else None
        with kept or scratch_schema(args.postgres, prefix="casedesk_bench") as url:
            postgres = Database(url)
            bench("postgres", postgres)
            postgres.dispose()


def already_seeded(db: Database, cases: int) -> bool:
    """True when a kept database holds exactly `cases` cases (another size is reseeded)."""
    with db.read_only() as session:
        held = int(session.scalar(select(func.count()).select_from(Case)) or 0)
    if held not in (0, cases):
        raise SystemExit(f"the kept database holds {held:,} cases, not {cases:,}: drop it first")
    return held == cases


def vacuum_analyze(db: Database) -> None:
    """Fresh statistics (and on PostgreSQL the visibility map) after a bulk load, as autovacuum
    would leave them on a live database (index-only scans depend on the visibility map)."""
    if db.is_sqlite:
        with db.engine.begin() as connection:  # our SQLite engine begins explicitly: commit
            connection.exec_driver_sql("ANALYZE")
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")  # cannot run inside a transaction
