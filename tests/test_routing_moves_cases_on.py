"""The routing-check job: a case moves on when its assignee has not answered within
`reassign_after` (business time), the managers are told after `max_reassign` moves, a case
held by someone no longer on the team goes to an agent, and waiting cases go to a free agent
as soon as there is one, the most urgent first."""

from __future__ import annotations

import threading

import pytest
from conftest import MANAGER, OFFICE_CALENDAR_YAML, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import MINUTE, another_process, case_row, run_job
from routing_helpers import ANA, BEN, CY, rota, routed_desk  # noqa: F401 (fixture)
from slack_commands_helpers import thread_texts
from slack_driver import SlackDriver
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.desk import DeskConfig
from bot.runtime.casedesk import Casedesk
from models import Case, CaseEvent


@pytest.fixture
def desk_config() -> DeskConfig:
    return routed_desk("mode: round_robin, reassign_after: 30m")


def events_of(casedesk: Casedesk, action: str) -> list[CaseEvent]:
    with casedesk.db.read_only() as session:
        rows = session.scalars(select(CaseEvent).order_by(CaseEvent.id)).all()
    return [row for row in rows if row.action.value == action]


def thread(fake: FakeSlack) -> str:
    card_ts = fake.messages(SUPPORT_CHANNEL)[0]["ts"]
    return "\n".join(thread_texts(fake, SUPPORT_CHANNEL, card_ts))


def test_a_case_its_assignee_does_not_answer_moves_on_to_the_next_agent(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(29 * MINUTE)
    run_job(casedesk, "routing-check")
    assert case_row(casedesk).assignee_id == ANA

    clock.advance(2 * MINUTE)
    report = run_job(casedesk, "routing-check")

    assert report.startswith("1 reassigned")
    assert case_row(casedesk).assignee_id == BEN
    assert f"Casedesk moved this case from <@{ANA}> to <@{BEN}> (no response; round robin" in (
        thread(fake_slack)
    )


def test_an_answer_in_time_keeps_the_case_where_it_is(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(10 * MINUTE)
    slack.post_message(
        ANA, SUPPORT_CHANNEL, "On it", thread_ts=fake_slack.messages(SUPPORT_CHANNEL)[0]["ts"]
    )
    clock.advance(60 * MINUTE)

    run_job(casedesk, "routing-check")

    assert case_row(casedesk).assignee_id == ANA


def test_after_max_reassign_moves_the_managers_are_told_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    for _ in range(4):
        clock.advance(31 * MINUTE)
        run_job(casedesk, "routing-check")

    told = thread(fake_slack)
    assert case_row(casedesk).assignee_id == CY, told  # Ana, Ben, Cy: two moves, then no more
    told = thread(fake_slack)
    assert f"<@{CY}> has not answered, and the case has been moved on as often as it may" in told
    assert told.count(f"cc <@{MANAGER}>") == 1


def test_a_case_held_by_someone_no_longer_on_the_team_goes_to_an_agent(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    with casedesk.db.unit_of_work() as session:  # app.yaml changed: Ana's agent days are over
        session.execute(update(Case).values(assignee_id="U0FORMER"))

    run_job(casedesk, "routing-check")

    assert case_row(casedesk).assignee_id == BEN
    assert "Casedesk moved this case from <@U0FORMER>" in thread(fake_slack)
    assert "(left the team; round robin" in thread(fake_slack)


@pytest.mark.parametrize(
    "desk_config",
    [
        routed_desk(
            "mode: round_robin, reassign_after: 30m",
            OFFICE_CALENDAR_YAML + "sla:\n  teams:\n    support:\n"
            "      default: {first_response: 8h, calendar: office}\n",
        )
    ],
)
def test_reassign_after_counts_business_time(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.advance(7 * 60 * MINUTE + 50 * MINUTE)  # 16:50 in Berlin, ten minutes before closing
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(60 * MINUTE)  # 17:50: only ten minutes of business time have passed

    run_job(casedesk, "routing-check")
    assert case_row(casedesk).assignee_id == ANA

    clock.advance(16 * 60 * MINUTE)  # 09:50 the next morning: 60 business minutes
    run_job(casedesk, "routing-check")
    assert case_row(casedesk).assignee_id == BEN


@pytest.mark.parametrize(
    "desk_config",
    [
        routed_desk(
            "mode: round_robin, max_open: 1",
            "sla:\n  teams:\n    support:\n      default: {first_response: 8h}\n"
            "      p1: {first_response: 15m}\n",
        )
    ],
)
def test_waiting_cases_go_to_a_free_agent_the_most_urgent_first(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    for agent in (ANA, BEN, CY):
        slack.command(agent, "away")
    slack.command(REQUESTER, "open Printer on fire")  # P3: first response within 8 h
    slack.command(REQUESTER, "open p1 Site down")  # P1: within 15 min
    assert [case_row(casedesk, n).assignee_id for n in (1, 2)] == [None, None]

    slack.command(BEN, "back")
    report = run_job(casedesk, "routing-check")

    assert "1 waiting case(s) assigned" in report
    assert [case_row(casedesk, n).assignee_id for n in (1, 2)] == [None, BEN]


def test_a_hand_over_just_before_the_check_keeps_the_case_where_it_was_handed(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(31 * MINUTE)
    slack.command(MANAGER, f"assign 1 <@{CY}>")

    run_job(casedesk, "routing-check")

    assert case_row(casedesk).assignee_id == CY


def test_two_processes_checking_at_once_move_the_case_once(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(31 * MINUTE)
    start = threading.Barrier(2)

    def check(replica: Casedesk) -> None:
        start.wait()
        run_job(replica, "routing-check")

    with another_process(casedesk) as other:
        threads = [threading.Thread(target=check, args=(r,)) for r in (casedesk, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert case_row(casedesk).assignee_id == BEN
    assert [event.to_value for event in events_of(casedesk, "assigned")] == [ANA, BEN]
