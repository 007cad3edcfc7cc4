"""SLA alerts decided exactly once: across repeated runs, a restart, downtime and two concurrent
passes, and again for a new due time after a priority change, a pause or a resume.

Cases are opened at START, Monday 10:00 in Berlin (`sla_delivery_helpers` has the policy)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from conftest import AGENT, START
from fake_slack import FakeSlack
from helpers import another_process
from helpers import run_sla_check as check
from sla_delivery_helpers import (
    ALERTS_CHANNEL,
    FIRST_RESPONSE_BREACH,
    FIRST_RESPONSE_WARNING,
    RESOLUTION_BREACH,
    act,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    open_case,
    plain_dates,
    slack_client,
    texts,
    thread_alerts,
)
from sqlalchemy import select

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from bot.sla.check import SlaCheckReport
from bot.sla.policies import FIRST_RESPONSE, RESOLUTION
from models import CaseAction, CaseEvent, SlaAlert

RESOLUTION_WARNING = "Case #1: resolution due soon"


# Helpers: acting on cases, running the job, reading what happened


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
