"""The same request twice: a signed body replayed within its five minutes, and a person who
opens the same case again because the first try seemed to fail. Each is carried out once."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode

from conftest import AGENT, HELP_CHANNEL, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from front_door_helpers import block_actions
from helpers import case_count, case_row, command_form
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import func, select

from bot.cases.repeats import REPEAT_OPEN_WINDOW
from bot.clock import ManualClock
from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CaseAction, CaseEvent


def replay(slack: SlackDriver, body: str) -> tuple[HttpResult, HttpResult]:
    """POST the same signed body (same timestamp, same signature) twice, as an attacker or a
    retrying proxy would, letting the app finish its work after each."""
    timestamp = int(time.time())
    results = []
    for _ in range(2):
        results.append(slack.post(body, timestamp=timestamp))
        assert slack.executor.wait_idle(timeout=30), "the app did not finish its work in time"
    return results[0], results[1]


def slash_command_body(key: str, fake: FakeSlack, text: str) -> str:
    return command_form(
        text, response_url=fake.response_url(key), trigger_id=f"13345224609.738474920.{key}"
    )


def claims(casedesk: Casedesk) -> int:
    with casedesk.db.read_only() as session:
        query = select(func.count()).where(CaseEvent.action == CaseAction.CLAIMED)
        return int(session.scalar(query) or 0)


# A replayed request


def test_a_slash_command_replayed_with_its_signature_opens_one_case_with_one_card(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    body = slash_command_body("replayed", fake_slack, "open Printer on fire")

    first, second = replay(slack, body)

    assert (first.status, second.status) == (200, 200)
    assert case_count(casedesk) == 1
    assert len(fake_slack.messages(SUPPORT_CHANNEL)) == 1
    [answer] = fake_slack.responses_for("replayed")
    assert answer["text"].startswith("Opened case #1 ")


def test_a_replayed_command_with_a_very_long_trigger_id_is_still_carried_out_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    body = slash_command_body("x" * 200, fake_slack, "open Printer on fire")

    replay(slack, body)

    assert case_count(casedesk) == 1
    assert len(fake_slack.messages(SUPPORT_CHANNEL)) == 1


def test_a_button_click_replayed_claims_once_and_answers_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    card_ts = fake_slack.messages(SUPPORT_CHANNEL)[0]["ts"]
    payload = block_actions(
        fake_slack,
        trigger_id="13345224609.738474920.claim",
        container={"type": "message", "channel_id": SUPPORT_CHANNEL, "message_ts": card_ts},
        message={"ts": card_ts, "text": ""},
        response_url=fake_slack.response_url("claim"),
    )

    first, second = replay(slack, urlencode({"payload": json.dumps(payload)}))

    assert (first.status, second.status) == (200, 200)
    assert claims(casedesk) == 1
    assert [r["text"] for r in fake_slack.responses_for("claim")] == ["You claimed case #1."]
    assert len(fake_slack.thread(SUPPORT_CHANNEL, card_ts)) == 1


def test_two_clicks_of_the_same_button_are_two_requests(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    """Only a repeated trigger_id is a repeat: each real click has its own."""
    slack.command(REQUESTER, "open Printer on fire")

    first = slack.click(AGENT, ActionId.CLAIM, "1")
    second = slack.click(AGENT, ActionId.CLAIM, "1")

    assert "You claimed case #1." in first.reply_text
    assert "You already have case #1." in second.reply_text


# A person who opens the same case again


def test_opening_the_same_case_again_within_two_minutes_points_at_the_first(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    first = slack.command(REQUESTER, "open p2 Printer on fire")
    clock.advance(REPEAT_OPEN_WINDOW - timedelta(seconds=1))
    again = slack.command(REQUESTER, "open p2 Printer on fire")

    assert "Opened case #1 for Customer Support in <#C0SUPPORT>." in first.reply_text
    assert [r["text"] for r in again.responses] == [
        "You just opened #1 for Customer Support in <#C0SUPPORT>."
    ]
    assert case_count(casedesk) == 1
    assert len(fake_slack.messages(SUPPORT_CHANNEL)) == 1
    assert case_row(casedesk).priority == "p2"


def test_another_person_another_text_another_channel_or_a_later_open_is_a_new_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer on fire")

    someone_else = slack.command(AGENT, "open Printer on fire")
    other_text = slack.command(REQUESTER, "open Printer on fire again")
    other_priority = slack.command(REQUESTER, "open p1 Printer on fire")
    other_channel = slack.command(REQUESTER, "open Printer on fire", channel=HELP_CHANNEL)
    clock.advance(REPEAT_OPEN_WINDOW + timedelta(seconds=1))
    later = slack.command(REQUESTER, "open Printer on fire")

    opened = [someone_else, other_text, other_priority, other_channel, later]
    assert [r.reply_text.split(" for ")[0] for r in opened] == [
        f"Opened case #{number}" for number in range(2, 7)
    ]
    assert case_count(casedesk) == 6
    assert len(fake_slack.messages(SUPPORT_CHANNEL)) == 6


def test_submitting_the_open_form_twice_opens_one_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open")
    form = fake_slack.opened_views()[-1]
    values = {"title": "Printer on fire", "description": "Smoke everywhere"}

    slack.submit(REQUESTER, form, values)
    slack.submit(REQUESTER, form, values)

    assert case_count(casedesk) == 1
    told = [call.params["text"] for call in fake_slack.calls_to("chat.postEphemeral")]
    assert told[-1] == "You just opened #1 for Customer Support in <#C0SUPPORT>.", told


def test_the_same_open_sent_five_times_at_once_opens_one_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    start = threading.Barrier(5)

    def open_case(_: int) -> HttpResult:
        start.wait()
        return slack.command(REQUESTER, "open Printer on fire")

    with ThreadPoolExecutor(max_workers=5) as pool:
        replies = [result.responses[0]["text"] for result in pool.map(open_case, range(5))]

    assert case_count(casedesk) == 1
    assert len(fake_slack.messages(SUPPORT_CHANNEL)) == 1
    assert sorted(replies) == [
        "Opened case #1 for Customer Support in <#C0SUPPORT>.",
        *["You just opened #1 for Customer Support in <#C0SUPPORT>."] * 4,
    ]
