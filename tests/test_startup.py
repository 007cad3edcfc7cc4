"""Starting `python -m bot` as an operator does, with something wrong: one clear line, exit 1,
no secret in the output, and nothing decided or recorded by a bot that could not serve."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from helpers import REPO, run_bot
from sqlalchemy import func, select

from bot.db import Database
from bot.runtime.settings import Settings
from models import OutboxMessage, SchedulerLease, SlaAlert, SummaryPost

SECRET = "Pw-SECRET-123"


@pytest.fixture
def operator_dir(tmp_path: Path) -> Path:
    shutil.copy(REPO / "app.yaml", tmp_path / "app.yaml")
    return tmp_path


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def casedesk_lines(stderr: str) -> list[str]:
    """What the bot itself said, as opposed to the log lines of start-up."""
    return [line for line in stderr.splitlines() if line.startswith("casedesk: ")]


def rows_written(directory: Path) -> dict[str, int]:
    database = Database(f"sqlite:///{directory}/casedesk.db")
    try:
        with database.read_only() as session:
            return {
                model.__tablename__: int(
                    session.scalar(select(func.count()).select_from(model)) or 0
                )
                for model in (OutboxMessage, SummaryPost, SlaAlert, SchedulerLease)
            }
    finally:
        database.dispose()


NOTHING_WRITTEN = {"outbox": 0, "summary_posts": 0, "sla_alerts": 0, "scheduler_leases": 0}


BAD_URLS = [
    f"postgresql+nodriver://u:{SECRET}@127.0.0.1/casedesk",
    f"postgresql://u:{SECRET}@127.0.0.1:notaport/casedesk",
    f"postgresql://u:{SECRET}@127.0.0.1:1/casedesk?connect_timeout=abc",
    f"postgresql://u:{SECRET}@127.0.0.1:1/casedesk",
    f"postgresql://u@127.0.0.1:1/casedesk?password={SECRET}",
    f"u:{SECRET}@127.0.0.1/casedesk",
    f"mysql://u:{SECRET}@127.0.0.1/casedesk",
]


@pytest.mark.parametrize(
    ("command", "url"),
    [*(((), url) for url in BAD_URLS), (("db", "upgrade"), BAD_URLS[0])],
)
def test_a_bad_database_url_is_one_line_that_never_shows_its_password(
    operator_dir: Path, url: str, command: tuple[str, ...]
) -> None:
    result = run_bot(
        *command,
        cwd=operator_dir,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="secret",
        DATABASE_URL=url,
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("casedesk: setting DATABASE_URL: ")


def test_the_sandbox_given_a_bad_database_url_says_so_in_one_line_without_its_password(
    operator_dir: Path,
) -> None:
    result = run_bot(
        "sandbox", "--port", str(closed_port()), "--database", BAD_URLS[0], cwd=operator_dir
    )

    assert result.returncode == 1
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert casedesk_lines(result.stderr) == [
        "casedesk: --database: 'postgresql+nodriver://u:***@127.0.0.1/casedesk' "
        "is not a database URL"
    ]


def test_a_taken_port_stops_the_bot_in_one_line_before_the_scheduler_decides_anything(
    operator_dir: Path,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_bot(
            cwd=operator_dir,
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
            HOST="127.0.0.1",
            PORT=str(port),
        )

    assert result.returncode == 1
    assert casedesk_lines(result.stderr) == [
        f"casedesk: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "set PORT to a free port"
    ]
    assert "Traceback" not in result.stderr
    assert "scheduler started" not in result.stderr
    assert rows_written(operator_dir) == NOTHING_WRITTEN


def test_socket_mode_that_cannot_reach_slack_stops_in_one_line_before_the_scheduler_runs(
    operator_dir: Path,
) -> None:
    result = run_bot(
        cwd=operator_dir,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_APP_TOKEN="xapp-1",
        SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
    )

    assert result.returncode == 1
    [line] = casedesk_lines(result.stderr)
    assert line.startswith("casedesk: cannot connect to Slack over Socket Mode (")
    assert "Connection refused" in line
    assert line.endswith("check SLACK_APP_TOKEN and that Slack is reachable")
    assert "Traceback" not in result.stderr
    assert rows_written(operator_dir) == NOTHING_WRITTEN


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("xoxp-1234-5678", "a user token"),
        ("xapp-1-A1-1", "an app-level token, which goes in SLACK_APP_TOKEN"),
        ("hunter2", "not a Slack token"),
    ],
)
def test_a_bot_token_that_is_not_a_bot_token_is_one_line_saying_what_it_is(
    operator_dir: Path, token: str, kind: str
) -> None:
    result = run_bot(cwd=operator_dir, SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET="secret")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("casedesk: setting SLACK_BOT_TOKEN must be the bot token")
    assert f"(this one is {kind};" in result.stderr
    assert token not in result.stderr


def test_each_process_gets_fewer_work_threads_when_there_are_several_and_a_pool_to_match() -> None:
    # More threads than two cores keep busy only take turns at the interpreter, ahead of acks.
    one, two = Settings(WORKERS=1), Settings(WORKERS=2)
    chosen = Settings(WORKERS=2, LISTENER_THREADS=32)

    assert (one.work_threads, two.work_threads, chosen.work_threads) == (16, 8, 32)
    assert [s.database_pool_size for s in (one, two, chosen)] == [24, 16, 40]
