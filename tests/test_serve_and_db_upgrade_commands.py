"""`python -m bot` (serve) and `python -m bot db upgrade`: a missing setting or a bad database
URL stops the bot with one line naming it, and an upgrade migrates a fresh file."""

from __future__ import annotations

from pathlib import Path

import pytest
from desk_config_helpers import operator_dir_fixture  # noqa: F401  (the operator_dir fixture)
from helpers import run_bot

from bot import migrate
from bot.db import Database

# python -m bot (serve) and python -m bot db upgrade


@pytest.mark.parametrize(
    ("env", "setting"),
    [({}, "SLACK_BOT_TOKEN"), ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET")],
)
def test_serving_without_slack_credentials_stops_with_one_line_naming_the_setting(
    operator_dir: Path, env: dict[str, str], setting: str
) -> None:
    result = run_bot(cwd=operator_dir, **env)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"casedesk: setting {setting} is not set")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a database", "is not a database URL"),
        ("postgresql://nobody@127.0.0.1:1/casedesk", "cannot connect"),
        ("mysql://nobody@127.0.0.1/casedesk", "no driver installed"),
    ],
)
def test_serving_with_a_bad_database_url_stops_with_one_line_naming_database_url(
    operator_dir: Path, url: str, reason: str
) -> None:
    result = run_bot(
        cwd=operator_dir, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="secret", DATABASE_URL=url
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("casedesk: setting DATABASE_URL: ")
    assert reason in result.stderr


def test_db_upgrade_migrates_a_fresh_sqlite_file_and_prints_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"

    first = run_bot("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    again = run_bot("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)

    head = migrate.head_revision()
    assert head is not None
    for result in (first, again):
        assert (result.returncode, result.stdout) == (0, f"Database is at revision {head}.\n")
    database = Database(url)
    try:
        assert migrate.current_revision(database) == head
    finally:
        database.dispose()
