"""What the benchmark scripts share: the command line and the scratch databases."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db import Database, scratch_schema


def parser(description: str | None) -> argparse.ArgumentParser:
    """Options every benchmark takes; each script adds its own sizes."""
    options = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument(
        "--postgres", help="a PostgreSQL URL; a scratch schema is made and dropped"
    )
    options.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    return options


def on_each_database(args: argparse.Namespace, bench: Callable[[str, Database], None]) -> None:
    """Run `bench` on a fresh SQLite file, then on a scratch PostgreSQL schema if asked."""
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            sqlite = Database(f"sqlite:///{folder}/bench.db")
            bench("sqlite", sqlite)
            sqlite.dispose()
    if args.postgres:
        with scratch_schema(args.postgres, prefix="casedesk_bench") as url:
            postgres = Database(url)
            bench("postgres", postgres)
            postgres.dispose()
