"""`python -m bot export`, run as a process: one row per case opened in the range, as CSV or
JSON lines, and one clear line for an unknown team."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import AGENT, REQUESTER, START, SUPPORT_CHANNEL
from csat_stats_home_export_helpers import (
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    desk_yaml,
    queue_fixture,  # noqa: F401  (the queue fixture)
)
from fake_slack import FakeSlack
from helpers import DAY, MINUTE, REPO, Json, run_cli
from slack_driver import SlackDriver
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.db import Database
from bot.ids import ActionId
from bot.metrics.export import FIELDS
from models import Case

# python -m bot export


def run_cli_side_by_side(
    env: dict[str, str], cwd: Path, *commands: list[str]
) -> list[subprocess.CompletedProcess[str]]:
    """Run independent read-only commands at the same time (each start-up takes a while)."""
    started = [
        (
            command,
            subprocess.Popen(
                [sys.executable, "-m", "bot", *command],
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for command in commands
    ]
    finished = []
    for command, process in started:
        stdout, stderr = process.communicate(timeout=120)
        finished.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return finished


def cli_env(database_url: str, config: Path, fake: FakeSlack) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": database_url,
        "SUPPORT_CONFIG": str(config),
        "SLACK_API_URL": fake.base_url,  # nothing here should reach Slack, the real one least
        "MPLBACKEND": "Agg",
    }


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(desk_yaml(), encoding="utf-8")
    return path


@pytest.fixture
def exported_history(queue: SlackDriver, fake_slack: FakeSlack, clock: ManualClock) -> None:
    """Monday (the `queue`, then): #1 answered after 10 min, closed after an hour and rated 5
    with a comment; #2 open; #3 billing's. Tuesday: #4."""
    card = next(m for m in fake_slack.messages(SUPPORT_CHANNEL) if m["text"].startswith("Case #1"))
    queue.thread_reply(AGENT, SUPPORT_CHANNEL, card["ts"], "On it")
    clock.advance(50 * MINUTE)
    queue.command(AGENT, "close 1 Replaced the toner")
    queue.click(REQUESTER, ActionId.CSAT_COMMENT, "1", channel=f"D{REQUESTER}")
    queue.submit(REQUESTER, fake_slack.opened_views()[-1], {"rating": "5", "comment": "Great"})
    clock.set(START + DAY)
    queue.command(REQUESTER, "open Opened on Tuesday")


@pytest.fixture
def history_env(
    exported_history: None, database: Database, config_file: Path, fake_slack: FakeSlack
) -> dict[str, str]:
    """The environment of `python -m bot` on the database that holds the exported history."""
    return cli_env(database.url, config_file, fake_slack)


MONDAY_ONLY = ("--team", "support", "--from", "2026-11-23", "--to", "2026-11-23")

EXPECTED_CLOSED_CASE: Json = {
    "case": 1,
    "team": "support",
    "priority": "p3",
    "status": "closed",
    "title": "Printer on fire",
    "requester": REQUESTER,
    "assignee": AGENT,
    "first_assignee": AGENT,
    "first_responder": AGENT,
    "escalation_level": 0,
    "reopen_count": 0,
    "opened_at": "2026-11-23T09:00:00+00:00",
    "claimed_at": "2026-11-23T09:00:00+00:00",
    "first_response_at": "2026-11-23T09:10:00+00:00",
    "first_response_seconds": 600,
    "first_response_breached": None,  # support has no SLA in this desk
    "last_escalated_at": None,
    "closed_at": "2026-11-23T10:00:00+00:00",
    "closed_by": AGENT,
    "reopened_at": None,
    "resolution_seconds": 3600,
    "resolution_breached": None,
    "first_contact_resolution": True,
    "csat_rating": 5,
    "csat_comment": "Great",
    "csat_answered_at": "2026-11-23T10:00:00+00:00",
    "first_response_settled_at": None,
    "resolution_settled_at": None,
    "source": "command",
}


def as_csv_row(record: Json) -> dict[str, str]:
    return {key: "" if value is None else str(value) for key, value in record.items()}


# The export runs a process; once, on SQLite, is enough to show the command line works.
sqlite_only = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@sqlite_only
def test_export_writes_one_row_per_case_opened_in_the_range_as_csv_or_json_lines(
    history_env: dict[str, str], tmp_path: Path
) -> None:
    as_csv, as_jsonl = run_cli_side_by_side(
        history_env,
        tmp_path,
        ["export", *MONDAY_ONLY, "--format", "csv"],
        ["export", *MONDAY_ONLY, "--format", "jsonl"],
    )

    assert as_csv.returncode == 0, as_csv.stderr
    # The columns are a contract with spreadsheets and BI tools: new ones only go last.
    assert as_csv.stdout.splitlines()[0] == (
        "case,team,priority,status,title,requester,assignee,first_assignee,first_responder,"
        "escalation_level,reopen_count,opened_at,first_response_at,first_response_seconds,"
        "first_response_breached,closed_at,closed_by,resolution_seconds,resolution_breached,"
        "csat_rating,csat_comment,claimed_at,last_escalated_at,reopened_at,"
        "first_contact_resolution,csat_answered_at,first_response_settled_at,"
        "resolution_settled_at,source"
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["case"] for row in rows] == ["1", "2"]
    assert [row["source"] for row in rows] == ["command", "command"]
    assert rows[0] == as_csv_row(EXPECTED_CLOSED_CASE)
    assert (rows[1]["status"], rows[1]["assignee"], rows[1]["csat_rating"]) == ("open", "", "")
    assert rows[1]["first_contact_resolution"] == ""  # not closed: not yet decided
    assert "exported 2 case(s)" in as_csv.stderr

    assert as_jsonl.returncode == 0, as_jsonl.stderr
    records = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert [record["case"] for record in records] == [1, 2]
    assert records[0] == EXPECTED_CLOSED_CASE
    assert list(records[0]) == list(FIELDS)
    assert records[1]["first_response_seconds"] is None


def test_export_of_an_unknown_team_fails_with_one_line(
    config_file: Path, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'empty.db'}", config_file, fake_slack)

    result = run_cli(
        env, tmp_path, "export", "--team", "nope", "--from", "2026-11-23", "--to", "2026-11-23"
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "casedesk: there is no team 'nope'; teams: support, billing, sales"
    ]


def test_seeded_cases_export_for_their_team(
    config_file: Path, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    env = cli_env(url, config_file, fake_slack)
    seeded = run_cli(env, tmp_path, "seed", "--cases", "200", "--days", "7")
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded 200 case(s) over 7 day(s)" in seeded.stdout

    today = datetime.now(UTC).date()
    exported = run_cli(
        env,
        tmp_path,
        "export",
        "--team",
        "support",
        "--from",
        (today - timedelta(days=8)).isoformat(),
        "--to",
        (today + timedelta(days=1)).isoformat(),
        "--format",
        "jsonl",
    )

    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    database = Database(url)
    try:
        with database.read_only() as session:
            support = session.scalar(select(func.count(Case.id)).where(Case.team_key == "support"))
            total = session.scalar(select(func.count(Case.id)))
    finally:
        database.dispose()
    assert total == 200
    assert 0 < len(records) <= 200
    assert len(records) == support
    assert {record["team"] for record in records} == {"support"}


@sqlite_only
def test_export_into_a_reader_that_stops_early_ends_quietly(
    history_env: dict[str, str], tmp_path: Path
) -> None:
    """`export ... | head -1`: the pipe closes under the export, which stops without a trace."""
    export = subprocess.Popen(
        [sys.executable, "-m", "bot", "export", *MONDAY_ONLY],
        env=history_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert export.stdout is not None
    export.stdout.close()  # the reader is gone before the first row is written
    _, errors = export.communicate(timeout=120)

    assert export.returncode == 141
    assert "Traceback" not in errors
