"""`python -m bot serve --workers N` (or WORKERS=N), as an operator runs it.

On PostgreSQL N processes answer Slack's signed requests on one port, and any of them shows
the metrics of all; SIGTERM stops them once the work already acknowledged is done, giving the
scheduler lease up at once. On SQLite more than one worker is refused in one line. One worker
is today's single process, and `--workers` wins over WORKERS.

Real `python -m bot serve` processes against the Slack stand-in; which process answered a
request is read from the operating system (who holds the server end of its connection)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, DESK_YAML, SIGNING_SECRET, SUPPORT_CHANNEL
from fake_slack import RESPONSE_URL, FakeSlack
from helpers import (
    command_form,
    migrated_postgres,
    run_bot,
    serve_env,
    served_bot,
    wait_until,
)
from prometheus_client.parser import text_string_to_metric_families

from bot.db import Database
from bot.sandbox.signed import FORM, sign
from models import SchedulerLease

SQLITE_REFUSAL = "casedesk: SQLite allows one process; use PostgreSQL for --workers 2 or more\n"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    temp: Path  # the process's TMPDIR

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL schema of the test's own."""
    with migrated_postgres("serving with several workers", prefix="casedesk_workers") as url:
        yield url


@contextmanager
def serving(
    tmp_path: Path, fake: FakeSlack, database_url: str, *args: str, **env: str
) -> Iterator[Served]:
    """`python -m bot serve ARGS` until it answers /readyz; killed at the end if still up."""
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    environment = serve_env(
        tmp_path,
        slack_api_url=fake.base_url,
        database_url=database_url,
        TMPDIR=str(temp),
        SLACK_CHANNEL_INTERVAL="0",
        **env,
    )
    log = tmp_path / "serve.log"
    # In a process group of its own: its workers too are killed at the end, with it.
    with served_bot(environment, *args, log=log, own_group=True) as process:
        yield Served(process, int(environment["PORT"]), log, temp)


# Several workers on PostgreSQL


def test_two_workers_answer_signed_requests_on_one_port_and_each_shows_both_ones_metrics(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str
) -> None:
    with serving(tmp_path, fake_slack, postgres_url, "--workers", "2") as served:
        workers = children(served.process.pid)
        assert len(workers) == 2, served.output()

        answered: dict[int, int] = {}  # worker pid: requests it answered
        sent = 0
        deadline = time.monotonic() + 30
        while len(answered) < 2:
            assert time.monotonic() < deadline, f"only {answered} answered; {served.output()}"
            with ThreadPoolExecutor(max_workers=8) as pool:
                numbers = range(sent, sent + 8)
                batch = list(pool.map(lambda n: help_command(served, fake_slack, n), numbers))
            sent += len(batch)
            for pid in batch:
                answered[pid] = answered.get(pid, 0) + 1
        assert set(answered) == workers
        wait_until(
            lambda: all(fake_slack.responses_for(f"help-{n}") for n in range(sent)),
            "every reply at its response URL",
        )
        for _ in range(4):  # whichever worker answers the scrape counts both
            assert help_commands_counted(served.url) == sent


def test_sigterm_stops_the_workers_after_the_work_acknowledged_and_gives_the_lease_up(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str
) -> None:
    with serving(tmp_path, fake_slack, postgres_url, "--workers", "2") as served:
        wait_until(lambda: lease_expiry(postgres_url) is not None, "a worker taking the lease")
        fake_slack.delay_next(RESPONSE_URL, 4)  # the answer to the person is slow to arrive
        form = command_form(
            "open Printer on fire",
            response_url=fake_slack.response_url("open"),
            trigger_id=f"open-{time.time_ns()}",
        )
        assert signed_post(served.port, form)[0] == 200  # acknowledged
        assert fake_slack.responses_for("open") == []  # the work is not done yet

        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 0, served.output()
        assert children(served.process.pid) == set()

    cards = [m for m in fake_slack.messages(SUPPORT_CHANNEL) if "Printer on fire" in m["text"]]
    assert len(cards) == 1
    [reply] = fake_slack.responses_for("open")
    assert reply["text"].startswith("Opened case #1"), reply
    assert given_up(postgres_url)  # the next process takes the lease at once
    assert list(served.temp.iterdir()) == []  # the metrics' folder is gone


def test_workers_from_the_environment_serve_too(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str
) -> None:
    with serving(tmp_path, fake_slack, postgres_url, WORKERS="2") as served:
        assert len(children(served.process.pid)) == 2


def test_a_taken_port_is_one_line_before_any_worker_starts(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str
) -> None:
    (tmp_path / "app.yaml").write_text(DESK_YAML)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_bot(
            "serve",
            "--workers",
            "2",
            cwd=tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.base_url,
            DATABASE_URL=postgres_url,
            SUPPORT_CONFIG=str(tmp_path / "app.yaml"),
            HOST="127.0.0.1",
            PORT=str(port),
        )

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"casedesk: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "set PORT to a free port"
    )
    assert "Booting worker" not in result.stderr


# One process, and what is refused


@pytest.mark.parametrize(
    ("args", "env"), [(["--workers", "2"], {}), ([], {"WORKERS": "2"})], ids=["flag", "env"]
)
def test_sqlite_refuses_more_than_one_worker_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    result = run_bot(
        "serve",
        *args,
        cwd=tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DATABASE_URL=f"sqlite:///{tmp_path}/casedesk.db",
        **env,
    )

    assert (result.returncode, result.stdout, result.stderr) == (1, "", SQLITE_REFUSAL)
    assert not (tmp_path / "casedesk.db").exists()  # refused before anything was made


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--workers", "0"], {}, "casedesk: --workers 0: give a number of processes from 1 to 64"),
        (
            ["--workers", "65"],
            {},
            "casedesk: --workers 65: give a number of processes from 1 to 64",
        ),
        (
            [],
            {"WORKERS": "0"},
            "casedesk: setting WORKERS: Input should be greater than or equal to 1",
        ),
    ],
)
def test_a_number_of_workers_out_of_range_is_refused_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_bot("serve", *args, cwd=tmp_path, **env)

    assert (result.returncode, result.stderr) == (1, message + "\n")


def test_the_flag_wins_over_workers_and_one_process_stops_cleanly_on_sigterm(
    tmp_path: Path, fake_slack: FakeSlack, sqlite_template: Path
) -> None:
    database = tmp_path / "casedesk.db"
    database.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{database}"
    with serving(tmp_path, fake_slack, url, "--workers", "1", WORKERS="2") as served:
        assert children(served.process.pid) == set()  # waitress, in this one process
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=30) == 0, served.output()
    assert given_up(url)  # the lease, at the stop


# Talking to the served bot, and what the operating system says about it


def help_command(served: Served, fake: FakeSlack, n: int) -> int:
    """Send `/case help` on a connection of its own; the pid of the worker that answered."""
    form = command_form(
        "help", response_url=fake.response_url(f"help-{n}"), trigger_id=f"help-{time.time_ns()}"
    )
    workers = children(served.process.pid)
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        status, _ = signed_post(served.port, form, connection=connection)
        assert status == 200
        owner = server_end_owner(connection, workers)  # kept alive: the worker still holds it
    finally:
        connection.close()
    assert owner is not None, "no worker holds the connection"
    return owner


def signed_post(
    port: int, form: str, *, connection: http.client.HTTPConnection | None = None
) -> tuple[int, str]:
    """POST `form` to /slack/events signed as Slack signs it; the status and the body."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(SIGNING_SECRET, form, timestamp),
    }
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/slack/events", body=form.encode(), headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode()


def help_commands_counted(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "casedesk_requests_total"
        and sample.labels == {"kind": "command", "name": "help"}
    )


def lease_expiry(database_url: str) -> datetime | None:
    reader = Database(database_url, pool_size=1)
    try:
        with reader.read_only() as session:
            lease = session.get(SchedulerLease, "scheduler")
            return lease.expires_at if lease is not None else None
    finally:
        reader.dispose()


def given_up(database_url: str) -> bool:
    """The scheduler lease was held, and is free now."""
    expiry = lease_expiry(database_url)
    return expiry is not None and expiry <= datetime.now(UTC)


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (gunicorn's workers, for its master)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # gone meanwhile
            continue
        if int(after_name[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def server_end_owner(connection: http.client.HTTPConnection, pids: set[int]) -> int | None:
    """Which of `pids` holds the server's end of `connection` (TCP over 127.0.0.1)."""
    assert connection.sock is not None
    client_port = connection.sock.getsockname()[1]
    server_port = connection.sock.getpeername()[1]
    ends = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    inode = next(
        (
            fields[9]
            for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines())
            if tuple(fields[1:3]) == ends
        ),
        None,
    )
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None
