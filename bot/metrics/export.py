"""`python -m bot export`: every case of a team with its timestamps and KPI fields, streamed.

The records come from `bot.metrics.case_records` (the KPI definitions live there), read with a
server-side cursor (PostgreSQL) or in chunks (SQLite) and written as they come, so a million
cases export in constant memory.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import Any, TextIO

from bot import metrics
from bot.db import Database

FIELDS = metrics.CASE_RECORD_FIELDS


def export_cases(
    db: Database,
    *,
    team_key: str,
    start: datetime,
    end: datetime,
    now: datetime,
    fmt: str,
    out: TextIO,
) -> int:
    """Write the team's cases opened in [start, end) to `out`, their SLA outcome as it stands
    at `now`; returns how many."""
    writer = _writer(fmt, out)
    count = 0
    with db.read_only() as session:
        records = metrics.case_records(session, team_key=team_key, start=start, end=end, now=now)
        for record in records:
            writer({field: _plain(value) for field, value in record.items()})
            count += 1
    out.flush()
    return count


def _writer(fmt: str, out: TextIO) -> Any:
    if fmt == "jsonl":
        return lambda record: out.write(json.dumps(record, ensure_ascii=False) + "\n")
    csv_writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    csv_writer.writeheader()
    return lambda record: csv_writer.writerow({k: _inert(v) for k, v in record.items()})


def _inert(value: Any) -> Any:
    """Spreadsheets run a cell starting with = + - @ as a formula; a requester's title must
    stay text, so such cells get a leading apostrophe (OWASP's advice for CSV)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value
