"""A request the bot acknowledged is carried out once: kept before the ack, marked done by
the change it causes, and carried out again by the next process when the first one died
before finishing it (tests/test_bot_killed_mid_burst.py kills a real process for this)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import AGENT, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import case_row, command_form, run_job
from slack_driver import SlackDriver
from sqlalchemy import select

from bot.clock import ManualClock
from bot.ids import ActionId
from bot.inbox import KEEP_DONE, MAX_ATTEMPTS, WORK_LEASE, request_key
from bot.requester import Requester
from bot.runtime.casedesk import Casedesk
from models import Case, EventSource, ProcessedSlackEvent, SlackRequest

FORM = "application/x-www-form-urlencoded"


def open_command(fake: FakeSlack, key: str, title: str) -> str:
    return command_form(
        f"open {title}",
        response_url=fake.response_url(key),
        trigger_id=f"13345224609.738474920.{key}",
    )


def acknowledged_then_died(casedesk: Casedesk, body: str) -> str:
    """What a process leaves when it acknowledged a request and died before its work."""
    key = request_key({"trigger_id": body.rsplit("trigger_id=", 1)[1]})
    assert key is not None
    assert casedesk.inbox.receive(key, body, FORM)
    return key


def requests(casedesk: Casedesk) -> list[SlackRequest]:
    with casedesk.db.read_only() as session:
        return list(session.scalars(select(SlackRequest)))


def titles(casedesk: Casedesk) -> list[str]:
    with casedesk.db.read_only() as session:
        return list(session.scalars(select(Case.title).order_by(Case.id)))


def test_a_request_whose_process_died_is_carried_out_once_when_its_lease_is_over(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    acknowledged_then_died(casedesk, open_command(fake_slack, "lost", "Printer on fire"))

    assert run_job(casedesk, "replay-requests").startswith("0 request(s)")  # maybe still working
    clock.advance(WORK_LEASE)
    assert run_job(casedesk, "replay-requests").startswith("1 request(s) carried out again")
    assert slack.executor.wait_idle(timeout=30)
    clock.advance(WORK_LEASE)
    assert run_job(casedesk, "replay-requests").startswith("0 request(s)")

    assert titles(casedesk) == ["Printer on fire"]
    assert case_row(casedesk).card_ts is not None
    [reply] = fake_slack.responses_for("lost")
    assert reply["text"].startswith("Opened case #1")
    assert all(request.done_at is not None for request in requests(casedesk))


def test_a_request_carried_out_is_done_and_never_carried_out_again(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(AGENT, "claim 1")

    clock.advance(WORK_LEASE * 3)
    assert run_job(casedesk, "replay-requests").startswith("0 request(s)")
    assert titles(casedesk) == ["Printer on fire"]
    assert [request.done_at is not None for request in requests(casedesk)] == [True, True]


def test_a_reading_is_answered_without_being_kept(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    # It changes nothing: answering a replay of it again harms no one, and one lost with its
    # process is typed again. Keeping it would cost two writes for every look at a case.
    slack.command(REQUESTER, "open Printer on fire")
    readings = ("show 1", "list open", "sla 1", "stats", "who", "help", "nonsense", "")
    answers = [slack.command(REQUESTER, text).responses for text in readings]

    assert all(len(answer) == 1 for answer in answers)
    assert len(requests(casedesk)) == 1  # the open


def test_a_click_no_listener_takes_is_done_at_once(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    # From a message of an older version of the bot, say: nothing will carry it out.
    slack.click(AGENT, "casedesk_retired_button", "1")

    [request] = requests(casedesk)
    assert request.done_at is not None
    clock.advance(WORK_LEASE)
    assert run_job(casedesk, "replay-requests").startswith("0 request(s)")


def test_a_change_that_committed_is_not_made_again_by_a_late_second_run(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    # Two runs of one request (a replica thought the first had died): the first commits its
    # change and the request's done mark together, so the second changes nothing.
    key = acknowledged_then_died(casedesk, open_command(fake_slack, "twice", "Printer on fire"))
    clock.advance(WORK_LEASE)
    run_job(casedesk, "replay-requests")
    assert slack.executor.wait_idle(timeout=30)

    late = Requester(REQUESTER, SUPPORT_CHANNEL, EventSource.COMMAND, request_key=key)
    reply = casedesk.flows.open_case(late, title="Printer on fire")

    assert reply.text == "That was done already."
    assert titles(casedesk) == ["Printer on fire"]


def test_a_request_that_fails_every_time_is_given_up_after_a_few_tries(
    casedesk: Casedesk, clock: ManualClock
) -> None:
    assert casedesk.inbox.receive("command:poison", "not a Slack request", FORM)
    taken = 0
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(WORK_LEASE)
        if casedesk.inbox.take("command:poison") is not None:
            taken += 1

    assert taken == MAX_ATTEMPTS - 1  # it was tried once when it came
    assert casedesk.inbox.due() == []


def test_old_requests_and_event_ids_are_forgotten_recent_ones_kept(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    clock.advance(KEEP_DONE + timedelta(minutes=1))
    slack.command(REQUESTER, "open Scanner jammed")
    with casedesk.db.unit_of_work() as session:
        session.add(ProcessedSlackEvent(event_id="Ev-old", received_at=clock.now() - 2 * KEEP_DONE))
        session.add(ProcessedSlackEvent(event_id="Ev-new", received_at=clock.now()))

    assert casedesk.inbox.forget_done() == 2

    assert len(requests(casedesk)) == 1
    with casedesk.db.read_only() as session:
        assert list(session.scalars(select(ProcessedSlackEvent.event_id))) == ["Ev-new"]


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_change_is_acknowledged_while_work_holds_every_database_connection(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    # Keeping the request before its ack has connections of its own: were it to wait for one
    # of the work's, it would wait out the pool's timeout (30 s) and fail the ack.
    slack.command(REQUESTER, "open Printer on fire")
    engine = casedesk.db.engine
    every = engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
    held = [engine.connect() for _ in range(every)]
    try:
        answer = slack.requests.slash_command(
            user=AGENT,
            channel=SUPPORT_CHANNEL,
            text="claim 1",
            response_url=fake_slack.response_url("busy"),
            trigger_id="13345224609.738474920.busy",
        )
        assert answer.status == 200
        assert any(key.endswith(".busy") for key in kept_keys(casedesk))
    finally:
        for connection in held:
            connection.close()
    assert slack.executor.wait_idle(timeout=30)  # then the work gets its connection
    assert case_row(casedesk).assignee_id == AGENT


def kept_keys(casedesk: Casedesk) -> list[str]:
    """The kept requests' keys, read on the acks' connections (the work's are all taken)."""
    with casedesk.db.ack_unit_of_work() as session:
        return list(session.scalars(select(SlackRequest.key)))


def test_a_long_trigger_id_gets_a_key_that_fits() -> None:
    key = request_key({"type": "block_actions", "trigger_id": "9" * 500})
    assert key is not None
    assert len(key) <= 64
    assert key != request_key({"type": "block_actions", "trigger_id": "9" * 499})


def test_a_link_click_and_a_form_sent_back_for_correction_are_done_at_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    slack.click(AGENT, ActionId.OPEN_LINK, "1")
    slack.command(AGENT, "close 1")  # opens the close form
    form = fake_slack.opened_views()[-1]
    slack.submit(AGENT, form, {})  # no resolution: the form asks for one

    assert all(request.done_at is not None for request in requests(casedesk))
    clock.advance(WORK_LEASE)
    assert run_job(casedesk, "replay-requests").startswith("0 request(s)")
