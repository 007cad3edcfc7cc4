"""What the bot logs, as an operator reads it: with `LOG_FORMAT=json` one JSON object per line;
never a token, a secret or what people wrote, even at DEBUG; the scheduler's routine runs and
Bolt's notice about the token below INFO or not at all.

One real `python -m bot serve` process, against the Slack stand-in, serves a few requests whose
text looks like secrets while its scheduler runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import AGENT_2, BOT_TOKEN, REQUESTER, SIGNING_SECRET, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import REPO, all_text, serve_env, served_bot, served_url, wait_until

from bot.sandbox.signed import SignedRequests

SECRET_TITLE = "VPN login: my password is hunter2-Zq8 and the key xoxp-1111-2222-LEAKME"
SECRET_NOTE = "tried again with s3cr3t-n0te-XY"
NEVER_LOGGED = (
    "hunter2-Zq8",
    "LEAKME",
    "s3cr3t-n0te-XY",
    "forged-body-Kp2",
    BOT_TOKEN,
    SIGNING_SECRET,
)
FIELDS = {"time", "level", "logger", "message"}


@dataclass(frozen=True)
class ServedRun:
    lines: list[str]  # what the process wrote to stderr
    records: list[dict[str, Any]]  # those of its lines that are JSON objects
    card_text: str  # what the case's card in the team channel says


@pytest.fixture(scope="module", name="served")
def served_fixture(tmp_path_factory: pytest.TempPathFactory) -> ServedRun:
    folder = tmp_path_factory.mktemp("served")
    with FakeSlack() as fake:
        fake.usergroups["S0SUPPORT"] = [AGENT_2]
        env = serve_env(  # the token in the environment, where Bolt looks for it too
            folder,
            slack_api_url=fake.base_url,
            database_url=f"sqlite:///{folder}/desk.db",
            LOG_FORMAT="json",
            LOG_LEVEL="DEBUG",
        )
        log_path = folder / "stderr.log"
        with served_bot(env, log=log_path, stop=signal.SIGINT):
            card_text = _serve_a_few_requests(fake, served_url(env))
            wait_until(lambda: _every_job_ran(log_path), "every job ran once", 60)
    lines = log_path.read_text().splitlines()
    records = [record for record in map(_json_object, lines) if record is not None]
    return ServedRun(lines, records, card_text)


def _serve_a_few_requests(fake: FakeSlack, url: str) -> str:
    slack = SignedRequests(url, SIGNING_SECRET)

    def command(text: str) -> None:
        sent = slack.slash_command(
            user=REQUESTER,
            channel=SUPPORT_CHANNEL,
            text=text,
            response_url=fake.response_url(slack.next_id("reply")),
            trigger_id=slack.next_id("trigger"),
        )
        assert sent.status == 200, sent

    command(f"open {SECRET_TITLE}")
    fake.wait_for(lambda fake: fake.messages(SUPPORT_CHANNEL), timeout=30)
    command(f"note 1 {SECRET_NOTE}")
    command("show 1")
    forged = slack.post("command=%2Fcase&text=forged-body-Kp2", signature="v0=" + "0" * 64)
    assert forged.status == 401
    return all_text(fake.messages(SUPPORT_CHANNEL))


def _every_job_ran(log_path: Path) -> bool:
    text = log_path.read_text()
    jobs = ("sla-check", "daily-summary", "deliver-outbox", "routing-check", "replay-requests")
    return all(f"job {job}: " in text for job in jobs)


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def test_with_log_format_json_every_line_is_one_json_object(served: ServedRun) -> None:
    assert len(served.lines) > 5
    assert len(served.records) == len(served.lines), [
        line for line in served.lines if _json_object(line) is None
    ]
    for record in served.records:
        assert record.keys() >= FIELDS, record
        assert record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    assert any(
        record["message"].startswith("Serving Slack on http://127.0.0.1:")
        for record in served.records
    )


def test_no_token_secret_or_text_people_wrote_is_logged(served: ServedRun) -> None:
    assert "hunter2-Zq8" in served.card_text  # the case was opened, with that title
    logged = "\n".join(served.lines)
    for text in NEVER_LOGGED:
        assert text not in logged
    assert any("refused an unverified request" in r["message"] for r in served.records)


def test_the_scheduler_runs_its_jobs_without_a_line_at_info(served: ServedRun) -> None:
    runs = [r for r in served.records if r["message"].startswith("job ")]
    scheduler_library = [r for r in served.records if r["logger"].startswith("apscheduler")]

    assert runs  # they ran, and said so at DEBUG only
    assert {r["level"] for r in runs} == {"DEBUG"}
    assert [r for r in scheduler_library if r["level"] in ("DEBUG", "INFO")] == []


def test_bolt_does_not_warn_that_the_token_goes_unused(served: ServedRun) -> None:
    assert not any("will be unused" in r["message"] for r in served.records)


def test_an_error_line_names_the_exception_type_but_not_its_message(tmp_path: Path) -> None:
    program = (
        "import logging\n"
        "from bot.runtime.logs import configure_logging\n"
        "configure_logging('INFO', 'json')\n"
        "try:\n"
        f"    raise ValueError({SECRET_TITLE!r})\n"
        "except ValueError:\n"
        "    logging.getLogger('casedesk').exception('opening the case failed')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )

    (line,) = result.stderr.splitlines()
    record = json.loads(line)
    assert record["message"] == "opening the case failed"
    assert (record["level"], record["logger"], record["exc_type"]) == (
        "ERROR",
        "casedesk",
        "ValueError",
    )
    assert "hunter2-Zq8" not in line
