"""Benchmark: `python -m bot export` streams a million cases in constant memory.

Seeds one team's history (`python -m bot seed` does the same), then exports a tenth of it and
all of it, each as its own process, and prints the rows, the time and the peak memory of each.
Target: the full export's peak memory no more than 1.2 times the tenth's (constant memory:
rows are streamed, never gathered).

    .venv/bin/python bench/export_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/export_bench.py --cases 100000       # a quicker run, SQLite
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

from bot import migrate
from bot.clock import ManualClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.seed import seed_cases

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DESK = """
default_team: support
teams:
  support: {name: Support, channel: C0SUPPORT, agents: [U0AGENT1, U0AGENT2, U0AGENT3]}
"""


def bench(label: str, db: Database, args: argparse.Namespace) -> None:
    migrate.upgrade(db)
    desk = parse_desk_config(DESK)
    if harness.already_seeded(db, args.cases):
        print(f"[{label}] reusing the {args.cases:,} cases seeded by an earlier run")
    else:
        started = time.perf_counter()
        seed_cases(db, desk, ManualClock(NOW), cases=args.cases, days=args.days)
        print(f"[{label}] seeded {args.cases:,} cases in {time.perf_counter() - started:.0f} s")
    harness.vacuum_analyze(db)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder, "app.yaml")
        config.write_text(DESK, encoding="utf-8")
        tenth = export(db, config, days=max(args.days // 10, 1))
        full = export(db, config, days=args.days + 1)
    for name, (rows, seconds, peak) in (("a tenth", tenth), ("all", full)):
        print(
            f"[{label}] export of {name}: {rows:,} rows in {seconds:.1f} s "
            f"({rows / seconds:,.0f} rows/s), peak memory {peak / 1024:.0f} MB"
        )
    ratio = full[2] / tenth[2]
    verdict = "meets" if ratio <= 1.2 else "MISSES"
    print(f"[{label}] peak memory, all / a tenth: {ratio:.2f} (target <= 1.2: {verdict})")


def export(db: Database, config: Path, *, days: int) -> tuple[int, float, int]:
    """(rows, seconds, peak kB) of one `python -m bot export` process over the last `days`."""
    start = (NOW - timedelta(days=days)).date()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SUPPORT_CONFIG": str(config),
        "DATABASE_URL": db.url,
    }
    command = [sys.executable, "-m", "bot", "export", "--team", "support"]
    command += ["--from", start.isoformat(), "--to", NOW.date().isoformat()]
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        rows = sum(1 for _ in process.stdout) - 1  # the header
        errors = process.stderr.read().decode()
        _, status, usage = os.wait4(process.pid, 0)  # wait4: the child's own peak memory
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"export failed with exit code {process.returncode}: {errors}")
    return rows, time.perf_counter() - started, usage.ru_maxrss


def main() -> None:
    options = harness.parser(__doc__)
    options.add_argument("--cases", type=int, default=1_000_000)
    options.add_argument("--days", type=int, default=365)
    args = options.parse_args()
    harness.on_each_database(args, lambda label, db: bench(label, db, args))


if __name__ == "__main__":
    main()
