"""`python -m bot run-job` for the daily summary, run as a process: a chosen day posted once
unless forced (and forced while still queued, still once), a day not over refused, nothing while
summaries are off, and a word when the due summary was already posted."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BILLING_CHANNEL, BOT_TOKEN, DESK_YAML, SIGNING_SECRET
from fake_slack import FakeSlack
from helpers import REPO, run_cli
from sqlalchemy import Select, select
from summaries_helpers import (
    MONDAY_LABEL,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    summaries,
    title,
)

from bot.db import Database
from models import OutboxMessage, SummaryPost

# `python -m bot run-job`


POST_MONDAY = ("run-job", "daily-summary", "--team", "support", "--date", "2026-11-23")


def closed_port() -> int:
    """A port nothing listens on: Slack unreachable."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def slack_unreachable(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "SLACK_API_URL": f"http://127.0.0.1:{closed_port()}/api/"}


def stored(cli_env: dict[str, str], query: Select[Any]) -> list[Any]:
    """What the command line's database holds, by `query`."""
    database = Database(cli_env["DATABASE_URL"])
    try:
        with database.read_only() as session:
            return list(session.scalars(query).all())
    finally:
        database.dispose()


@pytest.fixture
def cli_env(tmp_path: Path, fake_slack: FakeSlack) -> dict[str, str]:
    config = tmp_path / "app.yaml"
    config.write_text(DESK_YAML + "summary: {chart: false}\n", encoding="utf-8")
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SLACK_API_URL": fake_slack.base_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SUPPORT_CONFIG": str(config),
        "SLACK_CHANNEL_INTERVAL": "0",
        "MPLBACKEND": "Agg",
    }


def test_run_job_posts_the_daily_summary_of_a_chosen_day_once_unless_forced(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    first = run_cli(cli_env, tmp_path, *POST_MONDAY)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        f"daily-summary: Posted the daily summary of Customer Support for {MONDAY_LABEL}."
    )
    assert "(1 message(s) sent, 0 to retry, 0 failed)" in first.stdout
    assert [title(m) for m in summaries(fake_slack)] == [
        f"Customer Support: daily summary for {MONDAY_LABEL}"
    ]
    assert summaries(fake_slack, BILLING_CHANNEL) == []

    again = run_cli(cli_env, tmp_path, *POST_MONDAY)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(
        f"daily-summary: The daily summary of Customer Support for {MONDAY_LABEL} was already "
        "posted; use --force to post it again."
    )
    assert "(0 message(s) sent" in again.stdout
    assert len(summaries(fake_slack)) == 1

    forced = run_cli(cli_env, tmp_path, *POST_MONDAY, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Posted the daily summary of Customer Support" in forced.stdout
    assert len(summaries(fake_slack)) == 2


def test_run_job_refuses_a_day_that_is_not_over_and_records_nothing(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()

    refused = run_cli(cli_env, tmp_path, "run-job", "daily-summary", "--date", tomorrow)
    later = run_cli(cli_env, tmp_path, "run-job", "daily-summary", "--date", tomorrow)

    for result in (refused, later):
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr.count("\n") == 1, result.stderr
        assert "can only be posted once that period is over" in result.stderr
    assert summaries(fake_slack) == []
    assert stored(cli_env, select(SummaryPost)) == []
    assert stored(cli_env, select(OutboxMessage)) == []


def test_run_job_posts_nothing_while_summaries_are_turned_off(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = Path(cli_env["SUPPORT_CONFIG"])
    config.write_text(DESK_YAML + "summary: {enabled: false}\n", encoding="utf-8")

    result = run_cli(cli_env, tmp_path, "run-job", "daily-summary", "--date", "2026-11-23")

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "daily-summary: summaries are turned off (summary.enabled in app.yaml); nothing posted.\n"
    )
    assert summaries(fake_slack) == []


def test_run_job_without_options_says_when_the_due_summary_was_already_posted(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    first = run_cli(cli_env, tmp_path, "run-job", "daily-summary")
    again = run_cli(cli_env, tmp_path, "run-job", "daily-summary")

    assert first.returncode == 0, first.stderr
    assert first.stdout.count("Posted the daily summary") == 2  # support and billing
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("was already posted; use --force to post it again.") == 2
    assert len(summaries(fake_slack)) == 1


def test_run_job_with_slack_unreachable_says_nothing_was_delivered_and_fails(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    first = run_cli(slack_unreachable(cli_env), tmp_path, *POST_MONDAY)
    again = run_cli(cli_env, tmp_path, *POST_MONDAY)  # Slack is back, but the retry is not due yet

    for result in (first, again):
        assert result.returncode == 1, result.stdout
        assert "Traceback" not in result.stderr
        assert result.stdout.startswith(
            f"daily-summary: The daily summary of Customer Support for {MONDAY_LABEL} is "
            "queued, not delivered yet (chat.postMessage: "
        ), result.stdout
        assert result.stdout.endswith(" (queued, not delivered yet: 1 to retry)\n")
        assert "Queued" not in result.stdout
        assert "already posted" not in result.stdout
    assert summaries(fake_slack) == []


def test_run_job_forced_while_the_earlier_post_is_still_queued_puts_one_summary_in_slack(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    queued = run_cli(slack_unreachable(cli_env), tmp_path, *POST_MONDAY)
    forced = run_cli(cli_env, tmp_path, *POST_MONDAY, "--force")  # Slack is back

    assert queued.returncode == 1, queued.stdout
    assert forced.returncode == 0, forced.stdout
    assert forced.stdout.startswith(
        f"daily-summary: Posted the daily summary of Customer Support for {MONDAY_LABEL}."
    )
    assert len(summaries(fake_slack)) == 1
    assert stored(cli_env, select(OutboxMessage.state)) == ["sent"]  # none left to go later
