"""What an operator watches, over HTTP against the served app: `GET /metrics` in Prometheus's
format (requests by kind and name with their latencies, Slack Web API calls by outcome, the
outbox, the scheduler's jobs and lease, cases by team and status; several processes adding up
through PROMETHEUS_MULTIPROC_DIR) and `GET /readyz` (the database answers and is migrated)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import (
    AGENT,
    BOT_TOKEN,
    HELP_CHANNEL,
    REQUESTER,
    SIGNING_SECRET,
    SUPPORT_CHANNEL,
)
from fake_slack import FakeSlack
from helpers import (
    command_form,
    open_case,
    run_job,
    serve_env,
    served_bot,
    served_url,
    wait_until,
)
from prometheus_client.parser import text_string_to_metric_families
from slack_driver import SlackDriver

from bot import migrate
from bot.clock import ManualClock
from bot.db import Database, scratch_schema
from bot.ids import ActionId
from bot.runtime.assembly import build_app
from bot.runtime.casedesk import Casedesk
from bot.runtime.lease import LeaderLease
from bot.runtime.observability import worker_exited
from bot.runtime.scheduler import Job, JobScheduler
from bot.runtime.server import BackgroundServer, make_wsgi_app
from bot.sandbox.signed import SignedRequests
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackDeliveryError, SlackGateway, make_web_client

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


def series(samples: Samples, metric: str) -> list[dict[str, str]]:
    return [dict(labels) for name, labels in samples if name == metric]


class Watch:
    """Scrapes before and after: counters are the process's, so tests read what changed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.before = scrape(url)

    def now(self) -> Samples:
        return scrape(self.url)

    def grew(self, metric: str, /, **labels: str) -> float:
        return value(self.now(), metric, **labels) - value(self.before, metric, **labels)


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@contextmanager
def served(application_db: Database, casedesk: Casedesk) -> Iterator[str]:
    """The real app served over HTTP, on `application_db` (the casedesk's own, or another)."""
    app = build_app(casedesk)
    wsgi = make_wsgi_app(app, application_db, signing_secret=SIGNING_SECRET, clock=casedesk.clock)
    server = BackgroundServer(wsgi).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def served_app(casedesk: Casedesk, fake_slack: FakeSlack) -> Iterator[tuple[SlackDriver, str]]:
    with served(casedesk.db, casedesk) as url:

        def moment() -> float:
            return casedesk.clock.now().timestamp()

        yield SlackDriver(url, SIGNING_SECRET, fake_slack, casedesk.executor, moment), url


# Requests


def test_commands_buttons_and_events_are_counted_by_kind_and_name_with_latencies(
    served_app: tuple[SlackDriver, str],
) -> None:
    slack, url = served_app
    watch = Watch(url)
    open_case(slack)
    slack.command(AGENT, "frobnicate 1")  # not a subcommand: "other", never the typed word
    slack.command(AGENT, "")  # empty text is help
    slack.click(AGENT, ActionId.CLAIM, "1")
    slack.click(REQUESTER, ActionId.CSAT_RATE, "1:4", channel=REQUESTER)  # csat_rate:N ids
    slack.post_message(REQUESTER, HELP_CHANNEL, "My invoice is wrong")

    for kind, name in [
        ("command", "open"),
        ("command", "other"),
        ("command", "help"),
        ("action", "case_claim"),
        ("action", "csat_rate"),
        ("event", "message"),
    ]:
        assert watch.grew("casedesk_requests_total", kind=kind, name=name) == 1, (kind, name)
        count = watch.grew("casedesk_request_duration_seconds_count", kind=kind, name=name)
        assert count == 1, (kind, name)
    samples = watch.now()
    assert not [s for s in series(samples, "casedesk_requests_total") if s["name"] == "frobnicate"]
    assert watch.grew("casedesk_ack_duration_seconds_count", kind="command") == 3
    assert watch.grew("casedesk_ack_duration_seconds_count", kind="action") == 2
    # Every ack well within Slack's 3 s, and each took some time.
    acked_in_time = watch.grew("casedesk_ack_duration_seconds_bucket", kind="command", le="3.0")
    assert acked_in_time == 3
    assert watch.grew("casedesk_ack_duration_seconds_sum", kind="command") > 0
    assert watch.grew("casedesk_request_failures_total", kind="command", name="open") == 0


def test_a_shortcut_and_a_modal_submission_are_counted_by_their_callback_ids(
    served_app: tuple[SlackDriver, str], fake_slack: FakeSlack
) -> None:
    slack, url = served_app
    watch = Watch(url)
    message, _ = slack.post_message(REQUESTER, HELP_CHANNEL, "The VPN is down\nsince 9")
    slack.shortcut(AGENT, HELP_CHANNEL, message["ts"])
    slack.submit(AGENT, fake_slack.opened_views()[-1], {})

    assert (
        watch.grew("casedesk_requests_total", kind="shortcut", name="open_case_from_message") == 1
    )
    submitted = watch.grew(
        "casedesk_requests_total", kind="view", name="case_open_from_message_modal"
    )
    assert submitted == 1


# Slack Web API calls


def test_a_slack_429_is_counted_as_outcome_429_and_the_outbox_shows_what_waits(
    served_app: tuple[SlackDriver, str],
    casedesk: Casedesk,
    clock: ManualClock,
    fake_slack: FakeSlack,
) -> None:
    slack, url = served_app
    watch = Watch(url)
    fake_slack.fail_next("chat.postMessage", retry_after=30)
    opened = slack.command(REQUESTER, "open Printer on fire")
    assert "Opened case" in opened.reply_text  # the card's post was refused: it waits 30 s

    assert watch.grew("casedesk_slack_api_calls_total", method="chat.postMessage", outcome="429")
    assert watch.grew("casedesk_slack_api_call_duration_seconds_count", method="chat.postMessage")
    samples = watch.now()
    waiting = value(samples, "casedesk_outbox_rows", state="pending")
    assert waiting >= 1
    assert value(samples, "casedesk_outbox_oldest_due_age_seconds") == 0  # not due for 30 s

    clock.advance(timedelta(minutes=5))  # the app's clock
    samples = watch.now()
    assert value(samples, "casedesk_outbox_rows", state="pending") == waiting
    assert value(samples, "casedesk_outbox_oldest_due_age_seconds") == 300  # queued 5 min ago

    run_job(casedesk, "deliver-outbox")
    samples = watch.now()
    assert value(samples, "casedesk_outbox_rows", state="pending") == 0
    assert value(samples, "casedesk_outbox_oldest_due_age_seconds") == 0
    assert fake_slack.messages(SUPPORT_CHANNEL)  # the card is there now
    assert watch.grew("casedesk_slack_api_calls_total", method="chat.postMessage", outcome="ok")


def test_a_slack_call_that_times_out_is_counted_as_outcome_timeout(
    served_app: tuple[SlackDriver, str], fake_slack: FakeSlack
) -> None:
    _, url = served_app
    watch = Watch(url)
    client = make_web_client(BOT_TOKEN, base_url=fake_slack.base_url, timeout=1, max_retries=0)
    fake_slack.delay_next("chat.postEphemeral", 5)
    try:
        with pytest.raises(SlackDeliveryError):
            SlackGateway(client).post_ephemeral(SUPPORT_CHANNEL, AGENT, SlackMessage("Hello"))
    finally:
        fake_slack.release_delays()
    outcome = "timeout"
    assert watch.grew(
        "casedesk_slack_api_calls_total", method="chat.postEphemeral", outcome=outcome
    )
    assert (
        watch.grew("casedesk_slack_api_calls_total", method="chat.postEphemeral", outcome="ok") == 0
    )


# Cases


def test_cases_are_counted_by_team_and_status_when_scraped(
    served_app: tuple[SlackDriver, str],
) -> None:
    slack, url = served_app
    open_case(slack, "First")
    open_case(slack, "Second")
    slack.command(AGENT, "open team:billing Refund twice")
    slack.click(AGENT, ActionId.CLAIM, "1")

    samples = scrape(url)
    assert value(samples, "casedesk_database_up") == 1
    assert value(samples, "casedesk_cases", team="support", status="open") == 1
    assert value(samples, "casedesk_cases", team="support", status="in_progress") == 1
    assert ("casedesk_cases", frozenset({("team", "support"), ("status", "closed")})) in samples
    assert value(samples, "casedesk_cases", team="billing", status="open") == 1


# The scheduler


def test_job_runs_durations_last_success_and_the_lease_holder_are_shown(
    served_app: tuple[SlackDriver, str], casedesk: Casedesk
) -> None:
    _, url = served_app
    watch = Watch(url)
    scheduler = casedesk.scheduler()
    scheduler.start()  # every job runs once at start-up
    try:
        wait_until(
            lambda: (
                watch.grew("casedesk_job_runs_total", job="deliver-outbox") >= 1
                and watch.grew("casedesk_job_duration_seconds_count", job="sla-check") >= 1
            ),
            "the start-up job runs",
        )
        samples = watch.now()
        assert value(samples, "casedesk_scheduler_leader") == 1
        holders = series(samples, "casedesk_scheduler_lease_holder")
        assert holders == [{"lease": "scheduler", "holder": scheduler.lease.holder}]
    finally:
        scheduler.shutdown()
    for job in ("deliver-outbox", "sla-check", "daily-summary", "replay-requests"):
        assert watch.grew("casedesk_job_failures_total", job=job) == 0, job
        last = value(watch.now(), "casedesk_job_last_success_timestamp_seconds", job=job)
        assert time.time() - 60 < last <= time.time(), job
    samples = watch.now()
    assert value(samples, "casedesk_scheduler_leader") == 0  # released at shutdown
    assert series(samples, "casedesk_scheduler_lease_holder") == []


def test_a_failing_job_is_counted_and_never_marked_a_success(
    served_app: tuple[SlackDriver, str], casedesk: Casedesk
) -> None:
    _, url = served_app
    watch = Watch(url)

    def fail() -> str:
        raise RuntimeError("the job broke")

    broken = Job("broken-for-the-test", timedelta(hours=1), fail, "Always fails")
    scheduler = JobScheduler([broken], LeaderLease(casedesk.db, casedesk.clock))
    scheduler.start()
    try:
        wait_until(
            lambda: watch.grew("casedesk_job_failures_total", job=broken.name) == 1,
            "the failing run",
        )
    finally:
        scheduler.shutdown()
    assert watch.grew("casedesk_job_runs_total", job=broken.name) == 1
    assert value(watch.now(), "casedesk_job_last_success_timestamp_seconds", job=broken.name) == 0


# Readiness


def test_readyz_is_200_on_a_migrated_database(served_app: tuple[SlackDriver, str]) -> None:
    _, url = served_app
    status, body = get(f"{url}/readyz")
    assert status == 200
    assert body == {"ready": True, "database": "ok", "revision": migrate.head_revision()}
    assert get(f"{url}/healthz")[0] == 200


@contextmanager
def empty_database(casedesk: Casedesk, tmp_path: Path) -> Iterator[Database]:
    """A database of the same kind as the casedesk's, with nothing in it."""
    if casedesk.db.engine.dialect.name == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    with scratch_schema(os.environ["TEST_DATABASE_URL"], prefix="casedesk_empty") as url:
        database = Database(url)
        yield database
        database.dispose()


def test_readyz_is_503_with_the_reason_when_the_database_is_not_migrated(
    casedesk: Casedesk, tmp_path: Path
) -> None:
    with empty_database(casedesk, tmp_path) as empty, served(empty, casedesk) as url:
        status, body = get(f"{url}/readyz")
        assert status == 503
        assert body["ready"] is False
        assert "not migrated" in str(body["reason"])
        assert "casedesk db upgrade" in str(body["reason"])

        migrate.upgrade(empty, "0009")
        status, body = get(f"{url}/readyz")
        assert status == 503
        assert body["revision"] == "0009"
        assert "casedesk db upgrade" in str(body["reason"])

        migrate.upgrade(empty)
        assert get(f"{url}/readyz")[0] == 200


def test_readyz_is_503_and_metrics_still_answer_when_the_database_is_unreachable(
    casedesk: Casedesk, tmp_path: Path
) -> None:
    if casedesk.db.engine.dialect.name == "sqlite":
        (tmp_path / "a-folder.db").mkdir()  # SQLite cannot open a folder
        gone = Database(f"sqlite:///{tmp_path / 'a-folder.db'}")
    else:
        gone = Database("postgresql://postgres@127.0.0.1:1/nowhere")  # nothing listens there
    with served(gone, casedesk) as url:
        status, body = get(f"{url}/readyz")
        assert status == 503
        assert str(body["reason"]).startswith("the database is unreachable")
        samples = scrape(url)
        assert value(samples, "casedesk_database_up") == 0
        assert ("casedesk_scheduler_leader", frozenset()) in samples  # the process's own
    gone.dispose()


# Several processes


@contextmanager
def bot_processes(
    tmp_path: Path, fake: FakeSlack, database_url: str, metrics_dir: Path, count: int
) -> Iterator[list[tuple[subprocess.Popen[bytes], str]]]:
    """`count` real `python -m bot serve` processes on one database, sharing a
    PROMETHEUS_MULTIPROC_DIR as gunicorn's workers do, each running the scheduler."""
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            env = serve_env(
                tmp_path,
                slack_api_url=fake.base_url,
                database_url=database_url,
                PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            )
            process = stack.enter_context(served_bot(env, stop=signal.SIGTERM))
            started.append((process, served_url(env)))
        yield started


def test_processes_sharing_a_multiprocess_directory_add_up_and_a_dead_one_leaves_the_sums(
    tmp_path: Path,
    fake_slack: FakeSlack,
    casedesk: Casedesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    with bot_processes(tmp_path, fake_slack, casedesk.db.url, metrics_dir, 2) as bots:
        (first, first_url), (second, second_url) = bots
        for n, (_, url) in enumerate(bots):
            form = command_form(
                "help", response_url=fake_slack.response_url(f"help-{n}"), trigger_id=f"help-{n}"
            )
            assert SignedRequests(url, SIGNING_SECRET).post(form).status == 200
        wait_until(
            lambda: (
                value(scrape(first_url), "casedesk_requests_total", kind="command", name="help")
                == 2
            ),
            "both processes' requests in one scrape",
        )
        pids = {str(first.pid), str(second.pid)}

        def both_tried_the_lease() -> bool:
            return {
                s["pid"] for s in series(scrape(second_url), "casedesk_scheduler_leader")
            } == pids

        wait_until(both_tried_the_lease, "both schedulers trying the lease")
        samples = scrape(first_url)
        assert (
            value(samples, "casedesk_scheduler_leader", pid=str(first.pid))
            + value(samples, "casedesk_scheduler_leader", pid=str(second.pid))
            == 1
        )  # exactly one runs the jobs
        assert value(samples, "casedesk_job_runs_total", job="deliver-outbox") >= 1

        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
        worker_exited(second.pid)  # what the serving master does when a worker dies
        samples = scrape(first_url)
        leaders = {s["pid"] for s in series(samples, "casedesk_scheduler_leader")}
        assert leaders == {str(first.pid)}
        # What it counted stays counted.
        assert value(samples, "casedesk_requests_total", kind="command", name="help") == 2
