"""SLA alerts from decision to Slack: each alert decided once (across runs, restarts and
concurrent passes), delivered once (through rate limits, server errors and crashes mid-post),
paced per channel; the scheduler lease; `/case sla` and the card; and the job command line.

Cases are opened at START, Monday 10:00 in Berlin. Under the default policy (office hours,
first response 1 h, resolution 8 h, warnings at 75 %) the first response warning falls at
START + 45 min and the breach at START + 1 h; P1 counts 24x7 (15 min and 2 h).
"""

from __future__ import annotations

import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    AGENT,
    BOT_TOKEN,
    REQUESTER,
    SIGNING_SECRET,
    START,
    SUPPORT_CHANNEL,
    sla_desk,
    sla_desk_yaml,
)
from fake_slack import FakeSlack
from helpers import another_process, case_row, run_bot
from helpers import run_sla_check as check
from slack_driver import SlackDriver
from slack_sdk import WebClient
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db import Database
from bot.desk import DeskConfig
from bot.requester import Requester
from bot.runtime.assembly import Casedesk, build_casedesk
from bot.runtime.lease import LeaderLease
from bot.runtime.settings import Settings
from bot.sla.check import SlaCheckReport
from bot.sla.policies import FIRST_RESPONSE, RESOLUTION
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackGateway, make_web_client
from bot.slack.outbox import METADATA_EVENT_TYPE, DeliveryReport, OutboxDeliverer, enqueue
from models import CaseAction, CaseEvent, EventSource, OutboxMessage, SlaAlert

ALERTS_CHANNEL = "C0ALERTS"  # the support team's alert_channel in DESK_YAML
OTHER_CHANNEL = "C0BILLING"

SLA_YAML = """
sla:
  check_every: 2m
  digest_threshold: 10
  teams:
    support:
      default: {first_response: 1h, resolution: 8h, calendar: office}
      p1: {first_response: 15m, resolution: 2h, calendar: 24x7}
"""

FIRST_RESPONSE_WARNING = "Case #1: first response due soon"
FIRST_RESPONSE_BREACH = "SLA breached: first response for case #1"
RESOLUTION_WARNING = "Case #1: resolution due soon"
RESOLUTION_BREACH = "SLA breached: resolution for case #1"
NOTHING_DELIVERED = DeliveryReport()


@pytest.fixture
def desk_config() -> DeskConfig:
    return sla_desk(SLA_YAML, source="sla delivery test desk")


# Helpers: acting on cases, running the job, reading what happened


def act(casedesk: Casedesk, user: str, text: str) -> str:
    """Run a `/case` command the way the command handler does (without the HTTP round trip)."""
    who = Requester(user, SUPPORT_CHANNEL, EventSource.COMMAND)
    reply = casedesk.flows.run_command_text(text, who, trigger_id=None)
    assert reply is not None
    return reply.text


def open_case(casedesk: Casedesk, title: str = "Printer on fire", priority: str = "") -> int:
    reply = act(casedesk, REQUESTER, f"open {priority} {title}")
    match = re.match(r"Opened case #(\d+)", reply)
    assert match, reply
    return int(match.group(1))


def decide_alerts(casedesk: Casedesk, clock: ManualClock, *, after_minutes: int) -> str:
    """Case #1 opened, and `after_minutes` later an sla-check pass that only decides its alerts
    (the outbox delivers nothing yet): the pass's report."""
    open_case(casedesk)
    clock.advance(timedelta(minutes=after_minutes))
    return str(casedesk.sla_check.run())


def texts(fake: FakeSlack, channel: str) -> list[str]:
    return [message["text"] for message in fake.messages(channel)]


def card_ts(casedesk: Casedesk, number: int = 1) -> str:
    case = case_row(casedesk, number)
    assert case.card_ts is not None
    return case.card_ts


def thread_alerts(fake: FakeSlack, casedesk: Casedesk, number: int = 1) -> list[str]:
    """The SLA warnings and breaches in the case's thread (not its other updates)."""
    thread = fake.thread(SUPPORT_CHANNEL, card_ts(casedesk, number))
    return [m["text"] for m in thread if re.search(r"due soon$|^SLA breached:", m["text"])]


def decided(casedesk: Casedesk, target: str | None = None) -> list[tuple[str, str, datetime]]:
    """The alerts decided so far (of all cases), as (target, kind, due time)."""
    with casedesk.db.read_only() as session:
        rows = session.execute(
            select(SlaAlert.target, SlaAlert.kind, SlaAlert.due_at).order_by(SlaAlert.due_at)
        ).all()
    return sorted((t, kind, due) for t, kind, due in rows if target in (None, t))


def sla_events(casedesk: Casedesk) -> list[str]:
    with casedesk.db.read_only() as session:
        actions = session.scalars(select(CaseEvent.action).order_by(CaseEvent.id)).all()
    return [a.value for a in actions if a in (CaseAction.SLA_WARNING, CaseAction.SLA_BREACHED)]


def outbox_rows(casedesk: Casedesk) -> list[OutboxMessage]:
    """The alerts in the outbox (cards and their updates are queued there too)."""
    with casedesk.db.read_only() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind.like("sla_%"))
                .order_by(OutboxMessage.id)
            )
        )


def deliver_card_updates(casedesk: Casedesk) -> None:
    """Send the card updates a breach queued (the breach marker), so that what follows is
    about the alerts alone."""
    with casedesk.db.read_only() as session:
        ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "card_update"))
        assert casedesk.outbox.deliver(list(ids)).sent == 1


def posts_to(fake: FakeSlack, channel: str) -> int:
    return sum(1 for call in fake.calls_to("chat.postMessage") if call.params["channel"] == channel)


def slack_client(fake: FakeSlack) -> WebClient:
    """A Web API client that does not retry inside the call, so a 429 or 5xx reaches the outbox
    at once (the app's client would first sleep through Retry-After in-process)."""
    return make_web_client(BOT_TOKEN, base_url=fake.base_url, timeout=3, max_retries=0)


def deliverer(casedesk: Casedesk, fake: FakeSlack, **options: Any) -> OutboxDeliverer:
    options.setdefault("per_channel_interval", 0)
    return OutboxDeliverer(
        casedesk.db,
        SlackGateway(slack_client(fake)),
        casedesk.clock,
        cards=casedesk.outbox.cards,
        now_pool=casedesk.executor.deliver,
        **options,
    )


def crash_while_sending(casedesk: Casedesk, row_id: int) -> None:
    """Leave a row as a deliverer that died mid-post leaves it."""
    with casedesk.db.unit_of_work() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.state, row.sending_since, row.attempts = "sending", casedesk.clock.now(), 1


def crash_after_posting(casedesk: Casedesk, row: OutboxMessage) -> str:
    """The post reached Slack, tagged with the row's id, then the deliverer died before it could
    record it. Returns the ts Slack gave the message."""
    crash_while_sending(casedesk, row.id)
    return casedesk.slack.post(
        row.channel_id,
        SlackMessage(text=row.payload["text"], blocks=row.payload["blocks"]),
        thread_ts=row.thread_ts,
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"outbox_id": row.id}},
    )


def plain_dates(text: str) -> str:
    """Slack date tokens replaced by their UTC fallback text."""
    return re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", text)


def all_text(value: Any) -> list[str]:
    """Every `text` string in a Slack payload, depth first."""
    if isinstance(value, dict):
        own = [value["text"]] if isinstance(value.get("text"), str) else []
        return own + [part for item in value.values() for part in all_text(item)]
    if isinstance(value, list):
        return [part for item in value for part in all_text(item)]
    return []


@pytest.fixture
def leases(database: Database, clock: ManualClock) -> tuple[LeaderLease, LeaderLease]:
    """The scheduler lease as two processes hold it, 90 s at a time: `first` and `second`."""
    ttl = timedelta(seconds=90)
    return (
        LeaderLease(database, clock, holder="first", ttl=ttl),
        LeaderLease(database, clock, holder="second", ttl=ttl),
    )


@pytest.fixture
def cli_env(tmp_path: Path, sqlite_template: Path, fake_slack: FakeSlack) -> dict[str, str]:
    """An operator's environment: a SQLite file, app.yaml with the SLA section, the fake API."""
    shutil.copy(sqlite_template, tmp_path / "casedesk.db")
    config = tmp_path / "app.yaml"
    config.write_text(sla_desk_yaml(SLA_YAML), encoding="utf-8")
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'casedesk.db'}",
        "SUPPORT_CONFIG": str(config),
        "SLACK_CHANNEL_INTERVAL": "0",
    }


def open_case_in(
    env: dict[str, str], fake: FakeSlack, desk: DeskConfig, opened_at: datetime, priority: str
) -> None:
    """Open a case in the operator's database at `opened_at`, as the running bot would have."""
    database = Database(env["DATABASE_URL"])
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=env["DATABASE_URL"],
        SLACK_CHANNEL_INTERVAL=0,
    )
    opened = build_casedesk(
        settings, desk=desk, db=database, clock=ManualClock(opened_at), client=slack_client(fake)
    )
    try:
        open_case(opened, priority=priority)
    finally:
        opened.executor.shutdown(wait=True)
        database.dispose()


# Exactly once: across runs, restarts and concurrent passes


def test_each_alert_is_posted_once_across_repeated_runs_and_a_restart(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_case(casedesk)

    clock.advance(timedelta(minutes=46))
    assert check(casedesk) == "1 warning(s), 0 breach(es)"
    assert check(casedesk) == "0 warning(s), 0 breach(es)"
    with another_process(casedesk, slack_client(fake_slack)) as restarted:
        assert check(restarted) == "0 warning(s), 0 breach(es)"
        clock.advance(timedelta(minutes=15))
        assert check(restarted) == "0 warning(s), 1 breach(es)"
        assert check(restarted) == "0 warning(s), 0 breach(es)"
    assert check(casedesk) == "0 warning(s), 0 breach(es)"

    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_WARNING, FIRST_RESPONSE_BREACH]
    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    assert sla_events(casedesk) == ["sla_warning", "sla_breached"]
    assert decided(casedesk) == [
        (FIRST_RESPONSE, "breach", START + timedelta(hours=1)),
        (FIRST_RESPONSE, "warn", START + timedelta(hours=1)),
    ]


def test_after_downtime_past_warning_and_breach_only_the_breaches_are_posted_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_case(casedesk)

    # Down until Tuesday 13:00 in Berlin: both warnings (Mon 10:45 and 16:00) and both due
    # times (Mon 11:00 and Tue 10:00) went by unnoticed.
    clock.set(datetime(2026, 11, 24, 12, tzinfo=UTC))
    assert check(casedesk) == "0 warning(s), 2 breach(es)"
    assert check(casedesk) == "0 warning(s), 0 breach(es)"

    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH, RESOLUTION_BREACH]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH, RESOLUTION_BREACH]
    assert sla_events(casedesk) == ["sla_breached", "sla_breached"]


def test_a_priority_change_moves_the_due_time_and_allows_alerts_for_the_new_one(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_case(casedesk)
    clock.advance(timedelta(minutes=46))
    assert check(casedesk) == "1 warning(s), 0 breach(es)"

    # As P1 (15 min, 24x7, counted from the opening) the first response was due at +15 min.
    assert act(casedesk, AGENT, "priority 1 p1") == "Case #1 is P1 now."
    assert check(casedesk) == "0 warning(s), 1 breach(es)"
    clock.set(START + timedelta(minutes=61))  # the old P3 due time passes without an alert
    assert check(casedesk) == "0 warning(s), 0 breach(es)"

    assert decided(casedesk, FIRST_RESPONSE) == [
        (FIRST_RESPONSE, "breach", START + timedelta(minutes=15)),
        (FIRST_RESPONSE, "warn", START + timedelta(minutes=15)),
        (FIRST_RESPONSE, "warn", START + timedelta(hours=1)),
    ]
    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    breach = plain_dates(fake_slack.messages(ALERTS_CHANNEL)[0]["blocks"][0]["text"]["text"])
    assert "was due 2026-11-23 09:15 UTC" in breach


def test_pending_then_resume_moves_the_resolution_due_time_and_the_alerts_follow_it(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    # P1 resolution: 2 h of 24x7 time, warning after 1 h 30 min of it.
    open_case(casedesk, "Site down", priority="p1")
    assert act(casedesk, AGENT, "claim 1") == "You claimed case #1."
    clock.advance(timedelta(minutes=20))
    assert check(casedesk) == "0 warning(s), 1 breach(es)"  # the first response (15 min)

    clock.set(START + timedelta(minutes=30))
    pending = act(casedesk, AGENT, "pending 1 the customer's logs")
    assert pending == "Case #1 is pending until the requester answers."
    clock.set(START + timedelta(hours=3))  # the old warning and due time pass while paused
    assert check(casedesk) == "0 warning(s), 0 breach(es)"
    assert act(casedesk, AGENT, "resume 1") == "Case #1 is back in progress."
    # 1 h 30 min of the budget left: due at START + 4 h 30 min, warning 1 h after the resume.
    clock.set(START + timedelta(hours=4, minutes=1))
    assert check(casedesk) == "1 warning(s), 0 breach(es)"
    clock.set(START + timedelta(hours=4, minutes=31))
    assert check(casedesk) == "0 warning(s), 1 breach(es)"

    assert decided(casedesk, RESOLUTION) == [
        (RESOLUTION, "breach", START + timedelta(hours=4, minutes=30)),
        (RESOLUTION, "warn", START + timedelta(hours=4, minutes=30)),
    ]
    assert thread_alerts(fake_slack, casedesk) == [
        FIRST_RESPONSE_BREACH,
        RESOLUTION_WARNING,
        RESOLUTION_BREACH,
    ]


def test_a_resume_past_the_warning_point_warns_again_for_the_new_due_time(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    # P1 resolution: 2 h of 24x7 time, warning after 1 h 30 min of it.
    open_case(casedesk, "Site down", priority="p1")
    assert act(casedesk, AGENT, "claim 1") == "You claimed case #1."
    clock.advance(timedelta(hours=1, minutes=31))
    assert check(casedesk) == "1 warning(s), 1 breach(es)"  # resolution warning; first response

    pending = act(casedesk, AGENT, "pending 1 the customer's logs")
    assert pending == "Case #1 is pending until the requester answers."
    clock.advance(timedelta(hours=1))  # the old due time (START + 2 h) passes while paused
    assert check(casedesk) == "0 warning(s), 0 breach(es)"
    assert act(casedesk, AGENT, "resume 1") == "Case #1 is back in progress."
    # 29 min of the budget were left: due at START + 3 h, past the warning point already.
    assert check(casedesk) == "1 warning(s), 0 breach(es)"
    clock.advance(timedelta(minutes=30))
    assert check(casedesk) == "0 warning(s), 1 breach(es)"

    assert decided(casedesk, RESOLUTION) == [
        (RESOLUTION, "breach", START + timedelta(hours=3)),
        (RESOLUTION, "warn", START + timedelta(hours=2)),
        (RESOLUTION, "warn", START + timedelta(hours=3)),
    ]
    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH, RESOLUTION_BREACH]


def test_two_concurrent_checks_decide_each_alert_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    if casedesk.db.is_sqlite:
        pytest.skip("SQLite is single-process by design: concurrent passes need PostgreSQL")
    cases = [open_case(casedesk, f"Broken thing {n}") for n in range(6)]
    clock.advance(timedelta(minutes=61))
    barrier = threading.Barrier(2)

    with another_process(casedesk, slack_client(fake_slack)) as other:

        def run(desk: Casedesk) -> SlaCheckReport:
            barrier.wait(timeout=10)
            return desk.sla_check.run()

        with ThreadPoolExecutor(max_workers=2) as pool:
            reports = [
                future.result() for future in [pool.submit(run, d) for d in (casedesk, other)]
            ]

    assert sum(report.breaches for report in reports) == len(cases)
    assert sum(report.warnings for report in reports) == 0
    assert sorted(n for report in reports for n in report.breached_cases) == cases
    assert len(decided(casedesk)) == 2 * len(cases)  # warning (caught up, unsaid) and breach
    assert sla_events(casedesk) == ["sla_breached"] * len(cases)
    # The alert channel, the thread, and the card's breach marker.
    assert casedesk.outbox.deliver_due().sent == 3 * len(cases)
    assert sorted(texts(fake_slack, ALERTS_CHANNEL)) == sorted(
        f"SLA breached: first response for case #{n}" for n in cases
    )


# Delivered once: rate limits, server errors, permanent errors, crashes mid-post


def test_a_rate_limited_alert_waits_for_retry_after_and_is_then_delivered_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    assert decide_alerts(casedesk, clock, after_minutes=46) == "1 warning(s), 0 breach(es)"
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=30)

    assert deliverer(casedesk, fake_slack).deliver_due() == DeliveryReport(retried=1)
    [row] = outbox_rows(casedesk)
    assert (row.state, row.next_attempt_at) == ("pending", clock.now() + timedelta(seconds=30))
    assert row.last_error == "chat.postMessage: ratelimited"
    clock.advance(timedelta(seconds=29))
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED
    clock.advance(timedelta(seconds=2))
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=1)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_WARNING]
    assert posts_to(fake_slack, SUPPORT_CHANNEL) == 1 + 2  # the card, then two tries
    [row] = outbox_rows(casedesk)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_server_error_is_retried_with_growing_backoff_and_delivered_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    decide_alerts(casedesk, clock, after_minutes=46)
    fake_slack.fail_next("chat.postMessage", status=500, times=3)
    outbox = deliverer(casedesk, fake_slack)

    waits: list[timedelta] = []
    for _ in range(3):
        assert outbox.deliver_due() == DeliveryReport(retried=1)
        [row] = outbox_rows(casedesk)
        waits.append(row.next_attempt_at - clock.now())
        clock.advance(waits[-1] - timedelta(seconds=1))
        assert outbox.deliver_due() == NOTHING_DELIVERED  # not before the backoff is over
        clock.advance(timedelta(seconds=1))
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=1)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert waits == [timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_WARNING]
    [row] = outbox_rows(casedesk)
    assert (row.state, row.attempts) == ("sent", 4)


def test_a_permanent_error_marks_the_message_failed_and_it_is_not_retried(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    fake_slack.unknown_channels.add(ALERTS_CHANNEL)
    assert decide_alerts(casedesk, clock, after_minutes=61) == "0 warning(s), 1 breach(es)"

    # The thread copy and the card's breach marker are sent.
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=2, failed=1)
    clock.advance(timedelta(days=1))
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert posts_to(fake_slack, ALERTS_CHANNEL) == 1
    failed = [row for row in outbox_rows(casedesk) if row.channel_id == ALERTS_CHANNEL]
    assert [(row.state, row.last_error) for row in failed] == [
        ("failed", "chat.postMessage: channel_not_found")
    ]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]


def test_an_in_doubt_message_already_in_slack_is_recognised_and_not_posted_again(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    decide_alerts(casedesk, clock, after_minutes=61)
    deliver_card_updates(casedesk)
    rows = outbox_rows(casedesk)
    assert [(row.channel_id, row.thread_ts is not None) for row in rows] == [
        (ALERTS_CHANNEL, False),
        (SUPPORT_CHANNEL, True),
    ]
    posted_ts = {row.id: crash_after_posting(casedesk, row) for row in rows}
    posts_before = len(fake_slack.calls_to("chat.postMessage"))

    clock.advance(timedelta(minutes=1))
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED  # maybe still being sent
    clock.advance(timedelta(minutes=2))
    assert casedesk.outbox.deliver_due() == DeliveryReport(recovered=2)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert len(fake_slack.calls_to("chat.postMessage")) == posts_before
    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]
    assert {row.id: (row.state, row.sent_ts) for row in outbox_rows(casedesk)} == {
        row_id: ("sent", ts) for row_id, ts in posted_ts.items()
    }


def test_an_in_doubt_message_is_not_posted_again_while_slack_history_cannot_be_read(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    decide_alerts(casedesk, clock, after_minutes=61)
    deliver_card_updates(casedesk)
    for row in outbox_rows(casedesk):
        crash_after_posting(casedesk, row)
    fake_slack.fail_next("conversations.history", status=500)
    fake_slack.fail_next("conversations.replies", status=500)
    outbox = deliverer(casedesk, fake_slack)

    clock.advance(timedelta(minutes=3))
    assert outbox.deliver_due().sent == 0  # cannot tell whether they went out: do not guess
    clock.advance(timedelta(minutes=20))
    outbox.deliver_due()
    outbox.deliver_due()

    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]
    assert [row.state for row in outbox_rows(casedesk)] == ["sent", "sent"]


def test_an_in_doubt_message_missing_from_slack_is_posted_once(
    fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    decide_alerts(casedesk, clock, after_minutes=61)
    deliver_card_updates(casedesk)
    for row in outbox_rows(casedesk):
        crash_while_sending(casedesk, row.id)  # died before the post reached Slack

    clock.advance(timedelta(minutes=3))
    assert casedesk.outbox.deliver_due() == DeliveryReport(sent=2)
    assert casedesk.outbox.deliver_due() == NOTHING_DELIVERED

    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH]
    assert thread_alerts(fake_slack, casedesk) == [FIRST_RESPONSE_BREACH]
    posted = fake_slack.messages(ALERTS_CHANNEL)[0]["metadata"]
    assert posted["event_type"] == METADATA_EVENT_TYPE
    assert posted["event_payload"]["outbox_id"] == outbox_rows(casedesk)[0].id


@pytest.mark.parametrize(
    ("channels", "waits"),
    [
        pytest.param([ALERTS_CHANNEL] * 3, 2, id="three-to-one-channel-wait-twice"),
        pytest.param([ALERTS_CHANNEL, OTHER_CHANNEL], 0, id="two-channels-do-not-wait"),
        pytest.param(
            [ALERTS_CHANNEL, OTHER_CHANNEL, ALERTS_CHANNEL, OTHER_CHANNEL, ALERTS_CHANNEL],
            3,
            id="interleaved-channels-each-wait-for-their-own",
        ),
    ],
)
def test_posts_to_one_channel_are_paced_about_a_second_apart(
    fake_slack: FakeSlack, casedesk: Casedesk, channels: list[str], waits: int
) -> None:
    with casedesk.db.unit_of_work() as session:
        for number, channel in enumerate(channels, 1):
            content = SlackMessage(text=f"message {number}")
            enqueue(session, kind="test", channel_id=channel, content=content, now=START)
    sleeps: list[float] = []
    paced = deliverer(casedesk, fake_slack, per_channel_interval=1.0, sleep=sleeps.append)

    assert paced.deliver_due() == DeliveryReport(sent=len(channels))

    assert len(sleeps) == waits
    # The wait is the second minus the time since the channel's last post (a few ms here).
    assert all(0.5 < seconds <= 1.0 for seconds in sleeps), sleeps
    for channel in set(channels):
        expected = [f"message {n}" for n, c in enumerate(channels, 1) if c == channel]
        assert texts(fake_slack, channel) == expected


# The scheduler lease


def test_a_second_process_is_refused_the_lease_while_the_first_holds_it(
    leases: tuple[LeaderLease, LeaderLease], clock: ManualClock
) -> None:
    first, second = leases

    assert first.acquire()
    assert not second.acquire()
    clock.advance(timedelta(seconds=60))
    assert first.acquire()  # renewed: now held until +150 s
    clock.advance(timedelta(seconds=60))
    assert not second.acquire()


def test_the_lease_passes_to_another_process_once_it_expires(
    leases: tuple[LeaderLease, LeaderLease], clock: ManualClock
) -> None:
    first, second = leases
    assert first.acquire()

    clock.advance(timedelta(seconds=89))
    assert not second.acquire()
    clock.advance(timedelta(seconds=2))
    assert second.acquire()
    assert not first.acquire()


def test_release_hands_the_lease_over_at_once_and_only_by_its_holder(
    leases: tuple[LeaderLease, LeaderLease],
) -> None:
    first, second = leases
    assert first.acquire()

    second.release()  # not the holder: changes nothing
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()


# What people see: `/case sla` and the card


def test_case_sla_explains_each_clock_with_its_starts_pauses_and_what_is_left(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(AGENT, "claim 1")
    clock.advance(timedelta(minutes=5))
    card = fake_slack.messages(SUPPORT_CHANNEL)[0]["ts"]
    slack.thread_reply(AGENT, SUPPORT_CHANNEL, card, "Looking into it")
    clock.set(START + timedelta(minutes=30))
    slack.command(AGENT, "pending 1 the printer's serial number")
    clock.set(START + timedelta(hours=2, minutes=30))
    slack.command(AGENT, "resume 1")
    clock.set(START + timedelta(hours=2, minutes=40))

    explained = plain_dates(slack.command(AGENT, "sla 1").reply_text).splitlines()

    # Resolution: Mon 10:00-10:30 and 12:30-12:40 CET used (40 min of 8 h). The 7 h 30 min
    # left at the resume run Mon 12:30-17:00 and Tue 09:00-12:00 CET: due Tue 11:00 UTC.
    assert explained == [
        "SLA clocks of case #1",
        "SLA clocks of case #1",
        "P3 in support · calendar `office` · warn at 75% · on breach: alert",
        "*First response* · target 1 h · used 5 min · stopped 2026-11-23 09:05 UTC",
        "• 2026-11-23 09:00 UTC start: case opened",
        f"• 2026-11-23 09:05 UTC met: first agent reply by <@{AGENT}>",
        "*Resolution* · target 8 h · used 40 min · 7 h 20 min left, due 2026-11-24 11:00 UTC",
        "• 2026-11-23 09:00 UTC start: case opened",
        "• 2026-11-23 09:30 UTC pause: waiting on the requester",
        "• 2026-11-23 11:30 UTC resume: back in progress",
    ]


def test_the_card_shows_when_the_first_response_is_due_in_business_time(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # Monday 16:30 in Berlin
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(timedelta(minutes=10))
    slack.command(AGENT, "claim 1")

    card = fake_slack.messages(SUPPORT_CHANNEL)[0]
    sla_lines = [plain_dates(t) for t in all_text(card["blocks"]) if ":stopwatch:" in t]
    # 16:40 CET: 20 min left today, then 09:00-09:30 tomorrow; 16 h away on the wall clock.
    assert sla_lines == [
        ":stopwatch: first response due 2026-11-24 08:30 UTC (in 50 min of business time)",
        ":stopwatch: resolution due 2026-11-24 15:30 UTC (in 7 h 50 min of business time)",
    ]


# The job command line


def test_run_job_sla_check_decides_delivers_and_prints_its_report(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack, desk_config: DeskConfig
) -> None:
    # A P1 case (24x7) opened three days ago: both of its targets are long breached.
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    open_case_in(cli_env, fake_slack, desk_config, three_days_ago, "p1")

    result = run_bot("run-job", "sla-check", cwd=tmp_path, **cli_env)

    assert (result.returncode, result.stdout) == (
        0,
        # Each breach in the alert channel and the thread, and one update of the card.
        "sla-check: 0 warning(s), 2 breach(es); 5 message(s) sent, 0 to retry, 0 failed\n",
    ), result.stderr
    assert texts(fake_slack, ALERTS_CHANNEL) == [FIRST_RESPONSE_BREACH, RESOLUTION_BREACH]


def test_run_job_with_an_unknown_name_exits_1_naming_the_jobs(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_bot("run-job", "nope", cwd=tmp_path, **cli_env)

    assert (result.returncode, result.stdout) == (1, "")
    last_line = result.stderr.splitlines()[-1]
    named = re.fullmatch(r"casedesk: there is no job 'nope'; jobs: (.+)", last_line)
    assert named, result.stderr
    assert {"sla-check", "deliver-outbox"} <= set(named.group(1).split(", "))


def test_jobs_lists_sla_check_and_deliver_outbox_and_the_next_sla_moment(
    cli_env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack, desk_config: DeskConfig
) -> None:
    open_case_in(cli_env, fake_slack, desk_config, START, "p3")  # warning due START + 45 min

    result = run_bot("jobs", cwd=tmp_path, **cli_env)

    assert result.returncode == 0, result.stderr
    jobs = {line.split()[0]: line for line in result.stdout.splitlines()[:-1]}
    assert re.match(
        r"sla-check +every 2 min +next run: at start-up, then every 2 min ", jobs["sla-check"]
    )
    assert re.match(r"deliver-outbox +every 15 s +next run: at start-up", jobs["deliver-outbox"])
    last_line = result.stdout.splitlines()[-1]
    assert last_line == "next SLA warning or breach falls due at 2026-11-23 09:45 UTC"
