"""The front door and signed payloads Slack would never send: each gets a 400 or a polite
refusal, never a 500 or a traceback, and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import AGENT, REQUESTER, SIGNING_SECRET, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from front_door_helpers import block_actions, post_raw
from helpers import case_row
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import func, select

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CsatResponse


def signed_headers(body: bytes) -> dict[str, str]:
    now = int(time.time())
    base = f"v0:{now}:".encode() + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": f"v0={digest}"}


def post_signed(slack: SlackDriver, body: str | bytes, *, content_type: str = "") -> HttpResult:
    body = body.encode() if isinstance(body, str) else body
    kind = content_type or "application/x-www-form-urlencoded"
    result = post_raw(slack, body, signed_headers(body), content_type=kind)
    assert slack.executor.wait_idle(timeout=30), "the app did not finish its work in time"
    return result


def post_payload(slack: SlackDriver, payload: Any) -> HttpResult:
    return post_signed(slack, urlencode({"payload": json.dumps(payload)}))


# Signed, but not what Slack sends


def view_submission(**changes: Any) -> dict[str, Any]:
    view = {
        "id": "V1",
        "type": "modal",
        "callback_id": "case_close_modal",
        "private_metadata": json.dumps({"channel": SUPPORT_CHANNEL, "case": 1}),
        "state": {"values": {"resolution": {"resolution": {"type": "plain_text_input"}}}},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": AGENT, "team_id": "T1"},
        "trigger_id": "trigger-malformed",
        "view": {**view, **changes.pop("view_changes", {})},
    }
    return {key: value for key, value in {**payload, **changes}.items() if value is not ...}


def message_action(**changes: Any) -> dict[str, Any]:
    """The message shortcut "Open a case", with `changes` (`...` drops a field)."""
    payload = {
        "type": "message_action",
        "callback_id": "open_case_from_message",
        "trigger_id": "trigger-malformed",
        "response_url": "https://hooks.slack.com/actions/T1/1/x",
        "team": {"id": "T1"},
        "user": {"id": AGENT, "team_id": "T1"},
        "channel": {"id": "C0HELP", "name": "help"},
        "message_ts": "1700000000.000100",
        "message": {"type": "message", "user": REQUESTER, "ts": "1700000000.000100", "text": "hi"},
    }
    return {key: value for key, value in {**payload, **changes}.items() if value is not ...}


def event_envelope(event: Any, event_id: Any = "Ev0001") -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": event,
    }


MALFORMED_PAYLOADS: dict[str, Any] = {
    "click without user": lambda fake: block_actions(fake, user=...),
    "click by a user that is text": lambda fake: block_actions(fake, user="U0AGENT1"),
    "click with no actions": lambda fake: block_actions(fake, actions=[]),
    "click with actions not a list": lambda fake: block_actions(fake, actions={"a": 1}),
    "click with an action that is text": lambda fake: block_actions(fake, actions=["x"]),
    "click with a numeric value": lambda fake: block_actions(
        fake, actions=[{"action_id": ActionId.CLAIM, "value": 1}]
    ),
    "click with channel as text": lambda fake: block_actions(fake, channel="C0SUPPORT"),
    "click with user id of 1 kB": lambda fake: block_actions(fake, user={"id": "U" * 1000}),
    "click with view as a list": lambda fake: block_actions(fake, view=[1]),
    "click with team as a number": lambda fake: block_actions(fake, team=5),
    "click with response_urls as text": lambda fake: block_actions(fake, response_urls="x"),
    "submission without view": lambda _: view_submission(view=...),
    "submission with view as text": lambda _: view_submission(view="case_close_modal"),
    "submission with state as text": lambda _: view_submission(view_changes={"state": "x"}),
    "submission with values as a list": lambda _: view_submission(
        view_changes={"state": {"values": [1]}}
    ),
    "submission without user": lambda _: view_submission(user=...),
    "submission with metadata as a number": lambda _: view_submission(
        view_changes={"private_metadata": 5}
    ),
    "submission choosing an option of 151 characters": lambda _: view_submission(
        view_changes={"state": {"values": {"b": {"a": {"selected_option": {"value": "1" * 151}}}}}}
    ),
    "click with a value of 2001 characters": lambda fake: block_actions(
        fake, actions=[{"action_id": ActionId.CLAIM, "value": "1" * 2001}]
    ),
    "event_id of 65 characters": lambda _: event_envelope(
        {"type": "message", "channel": SUPPORT_CHANNEL}, event_id="E" * 65
    ),
    "event as text": lambda _: event_envelope("message"),
    "event without type": lambda _: event_envelope({"channel": SUPPORT_CHANNEL}),
    "message with subtype as a list": lambda _: event_envelope(
        {"type": "message", "subtype": [], "channel": SUPPORT_CHANNEL}
    ),
    "message from a user that is a number": lambda _: event_envelope(
        {"type": "message", "user": 7, "channel": SUPPORT_CHANNEL}
    ),
    "shortcut without a message": lambda _: message_action(message=...),
    "shortcut on a message that is text": lambda _: message_action(message="hi"),
    "shortcut on a message without ts": lambda _: message_action(
        message={"user": REQUESTER, "text": "hi"}
    ),
    "shortcut with channel as text": lambda _: message_action(channel="C0HELP"),
    "shortcut without user": lambda _: message_action(user=...),
    "shortcut on a message whose text is a list": lambda _: message_action(
        message={"ts": "1.2", "text": ["hi"]}
    ),
    "event reaction without item": lambda _: event_envelope(
        {"type": "reaction_added", "user": AGENT, "reaction": "ticket"}
    ),
    "event reaction on an item that is text": lambda _: event_envelope(
        {"type": "reaction_added", "user": AGENT, "reaction": "ticket", "item": "x"}
    ),
    "event reaction that is a number": lambda _: event_envelope(
        {"type": "reaction_added", "user": AGENT, "reaction": 5, "item": {"type": "message"}}
    ),
    "event reaction by nobody": lambda _: event_envelope(
        {"type": "reaction_added", "reaction": "ticket", "item": {"type": "message"}}
    ),
    "a list, not an object": lambda _: [1, 2],
    "a payload of unknown type": lambda _: {"type": "nonsense"},
    "nested 900 deep": lambda _: {"type": "block_actions", "x": json.loads("[" * 900 + "]" * 900)},
}


@pytest.mark.parametrize("name", MALFORMED_PAYLOADS)
def test_a_signed_payload_slack_would_never_send_gets_400_and_changes_nothing(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    casedesk: Casedesk,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    payload = MALFORMED_PAYLOADS[name](fake_slack)
    if name.startswith(("event", "message")):
        result = post_signed(slack, json.dumps(payload), content_type="application/json")
    else:
        result = post_payload(slack, payload)

    assert result.status == 400, result
    assert result.body.startswith("Malformed Slack request")
    assert "Traceback" not in result.body
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert (fake_slack.calls, fake_slack.responses) == ([], [])


@pytest.mark.parametrize(
    "body",
    [
        b"payload=not-json",
        b"payload=%7B%22type%22%3A",
        b"payload=%5B1%5D",
        b"command=/case&text=\xff\xfe",
        b'{"type": "event_callback", "event": ',
        b"[1]",
        b'"text"',
        b'{"type": "event_callback", "event_id": "Ev1", "n": 1' + b"0" * 5000 + b"}",
    ],
)
def test_a_signed_body_that_cannot_be_read_gets_400(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    json_body = body.startswith((b"[", b'"'))
    result = post_signed(slack, body, content_type="application/json" if json_body else "")

    assert result.status == 400, result
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


@pytest.mark.parametrize("value", [str(10**20), "2147483648", "-1", "0", "1e3", "²"])
def test_a_button_pointing_at_a_case_number_out_of_range_is_told_and_changes_nothing(
    slack: SlackDriver, casedesk: Casedesk, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    slack.command(REQUESTER, "open Printer on fire")

    result = slack.click(AGENT, ActionId.CLAIM, value)

    assert result.status == 200
    assert "That button does not point at a case any more." in result.reply_text
    assert case_row(casedesk).assignee_id is None
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_a_form_pointing_at_a_case_number_out_of_range_is_told_and_changes_nothing(
    slack: SlackDriver, casedesk: Casedesk, caplog: pytest.LogCaptureFixture
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    metadata = json.dumps({"channel": SUPPORT_CHANNEL, "case": 10**20})
    form = view_submission(
        view_changes={
            "private_metadata": metadata,
            "state": {"values": {"resolution": {"resolution": {"value": "Fixed"}}}},
        }
    )

    result = post_payload(slack, form)

    assert result.status == 200
    assert case_row(casedesk).closed_at is None
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


@pytest.mark.parametrize("rating", ["²", "1" * 150, "7"])
def test_a_survey_answer_that_is_not_a_rating_is_refused_and_changes_nothing(
    slack: SlackDriver, casedesk: Casedesk, caplog: pytest.LogCaptureFixture, rating: str
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    chosen = {"type": "static_select", "selected_option": {"value": rating}}
    form = view_submission(
        user={"id": REQUESTER},
        view_changes={
            "callback_id": "csat_comment_modal",
            "private_metadata": json.dumps({"channel": None, "case": 1}),
            "state": {"values": {"rating": {"rating": chosen}}},
        },
    )

    result = post_payload(slack, form)

    assert result.status == 200
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    with casedesk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(CsatResponse)) == 0


def test_a_slash_command_mentioning_the_word_payload_is_carried_out(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    result = slack.command(REQUESTER, "open The payload of the webhook is empty")

    assert "Opened case #1" in result.reply_text
    assert case_row(casedesk).title == "The payload of the webhook is empty"
