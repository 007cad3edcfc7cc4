"""The front door: what reaches /slack/events that Slack did not sign, signed payloads Slack
would never send, and text carrying control characters. Nothing unverified is ever acted on or
answered, nothing malformed gets a 500 or a traceback, and text is stored clean on both
databases."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import AGENT, REQUESTER, SIGNING_SECRET, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import case_row, command_form
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import func, select

from bot.ids import ActionId
from bot.runtime.assembly import Casedesk
from bot.sandbox.signed import sign
from models import Case, CaseAction, CaseEvent, CsatResponse

ZEROS = "v0=" + "0" * 64


def post_raw(
    slack: SlackDriver,
    body: str | bytes,
    headers: dict[str, str],
    *,
    content_type: str = "application/x-www-form-urlencoded",
    timeout: float = 10,
) -> HttpResult:
    """A POST to /slack/events with exactly these Slack headers."""
    request = urllib.request.Request(
        slack.url + "/slack/events",
        data=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": content_type, **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, error.read().decode())


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


def case_count(casedesk: Casedesk) -> int:
    with casedesk.db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def forged_headers(body: str) -> list[dict[str, str]]:
    """Every way a request can fail verification, the malformed timestamps first."""
    now = int(time.time())
    right = sign(SIGNING_SECRET, body, now)
    plus = f"v0:+{now}:{body}".encode()  # int() would read "+123"; Slack never sends it
    plus_signed = "v0=" + hmac.new(SIGNING_SECRET.encode(), plus, hashlib.sha256).hexdigest()
    return [
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": ZEROS},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ZEROS},
        {"X-Slack-Request-Timestamp": "12.5", "X-Slack-Signature": ZEROS},
        {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": ZEROS},
        {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": ZEROS},
        {"X-Slack-Request-Timestamp": f"+{now}", "X-Slack-Signature": plus_signed},
        {"X-Slack-Request-Timestamp": str(now)},
        {"X-Slack-Signature": right},
        {},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": ZEROS},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "v0=nothex"},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": right.upper()},
        {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": sign("guess", body, now)},
        {"X-Slack-Request-Timestamp": str(now - 600), "X-Slack-Signature": right},
    ]


# Requests that are not from Slack


def test_a_request_that_fails_verification_in_any_way_gets_401_and_nothing_is_sent_anywhere(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    body = command_form("open Forged", response_url=fake_slack.response_url("forged"))

    results = [post_raw(slack, body, headers) for headers in forged_headers(body)]

    assert slack.executor.wait_idle(timeout=30)
    assert [(r.status, r.body) for r in results] == [(401, "Invalid Slack signature.\n")] * len(
        results
    )
    assert (fake_slack.calls, fake_slack.responses) == ([], [])
    assert case_count(casedesk) == 0


def test_forged_requests_naming_a_response_url_that_hangs_hold_up_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    # A port that takes connections into its backlog and never answers them.
    with socket.create_server(("127.0.0.1", 0), backlog=64) as tarpit:
        tarpit.setblocking(False)
        hanging_url = f"http://127.0.0.1:{tarpit.getsockname()[1]}/hook"
        body = command_form("open Forged", response_url=hanging_url)
        headers = {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": ZEROS}
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda _: post_raw(slack, body, headers, timeout=5), range(20)))
        health = slack.get("/healthz")
        elapsed = time.monotonic() - started
        assert slack.executor.wait_idle(timeout=30)

        with pytest.raises(BlockingIOError):
            tarpit.accept()  # nobody ever connected to it

    assert [r.status for r in results] == [401] * 20
    assert health.status == 200
    assert elapsed < 3
    assert "Opened case #1" in slack.command(REQUESTER, "open Real").reply_text


def test_ten_forged_megabyte_bodies_add_ten_short_lines_to_the_log(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    body = command_form("open " + "x" * 1_000_000, response_url="https://hooks.example/forged")
    caplog.set_level(logging.DEBUG)

    results = [
        post_raw(slack, body, {"X-Slack-Request-Timestamp": str(int(time.time())), **sig})
        for sig in [{"X-Slack-Signature": ZEROS}] * 10
    ]

    assert [r.status for r in results] == [401] * 10
    refusals = [r for r in caplog.records if "refused an unverified request" in r.getMessage()]
    assert len(refusals) == 10
    assert all(r.exc_info is None for r in refusals)
    assert sum(len(r.getMessage()) for r in caplog.records) < 20_000
    assert not any("xxxxxxxxxx" in r.getMessage() for r in caplog.records)


def test_the_error_handler_answers_only_requests_the_edge_verified(
    casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    """A listener that fails tells the user "Something went wrong" at the response URL only
    when the request passed verification: the same Bolt app, handed the same request without
    the edge's mark, keeps quiet."""
    from slack_bolt import BoltRequest

    from bot.runtime.assembly import build_app
    from bot.slack.signature import VERIFIED

    app = build_app(casedesk)

    @app.action("explode")
    def explode(ack: Any) -> None:
        ack()
        raise RuntimeError("a listener failed")

    def click(key: str) -> dict[str, Any]:
        payload = block_actions(
            fake_slack, response_url=fake_slack.response_url(key), trigger_id=f"trigger-{key}"
        )
        payload["actions"] = [{"type": "button", "action_id": "explode", "value": "1"}]
        payload["trigger_id"] = f"trigger-{key}"  # two requests, not one sent twice
        return payload

    app.dispatch(BoltRequest(body=json.dumps(click("unverified")), headers={}))
    app.dispatch(BoltRequest(body=json.dumps(click("verified")), context={VERIFIED: True}))

    assert casedesk.executor.wait_idle(timeout=30)
    assert [response["_key"] for response in fake_slack.responses] == ["verified"]
    assert "Something went wrong" in fake_slack.responses[0]["text"]


# Signed, but not what Slack sends


def block_actions(fake: FakeSlack, **changes: Any) -> dict[str, Any]:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": AGENT, "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trigger-malformed",
        "channel": {"id": SUPPORT_CHANNEL},
        "container": {"type": "message", "channel_id": SUPPORT_CHANNEL},
        "response_url": fake.response_url("malformed"),
        "actions": [{"type": "button", "action_id": ActionId.CLAIM, "value": "1"}],
    }
    return {key: value for key, value in {**payload, **changes}.items() if value is not ...}


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


# Control characters in what people type


def test_a_nul_in_a_title_is_removed_and_the_case_is_opened_on_both_databases(
    slack: SlackDriver, casedesk: Casedesk, caplog: pytest.LogCaptureFixture
) -> None:
    result = slack.command(REQUESTER, "open Printer\x00 on\x07 fire\x1b[31m\r\nsecond\tline")

    assert "Opened case #1" in result.reply_text
    assert case_row(casedesk).title == "Printer on fire[31m\nsecond\tline"
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_nuls_in_notes_thread_replies_and_forms_are_removed_and_everything_is_recorded(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Printer on fire")
    card_ts = fake_slack.wait_for(lambda fake: fake.messages(SUPPORT_CHANNEL), timeout=10)[0]["ts"]
    slack.command(AGENT, "claim 1")

    noted = slack.command(AGENT, "note 1 Toner\x00 low\x00")
    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, card_ts, "Still\x00 broken\x00")
    slack.click(AGENT, ActionId.CLOSE, "1", message_ts=card_ts)
    closed = slack.submit(AGENT, fake_slack.opened_views()[-1], {"resolution": "New\x00 toner"})

    assert "Traceback" not in noted.reply_text + closed.body
    with casedesk.db.read_only() as session:
        events = session.scalars(select(CaseEvent).order_by(CaseEvent.id)).all()
    texts = {e.action: json.dumps([e.details, e.from_value, e.to_value]) for e in events}
    assert "Toner low" in texts[CaseAction.NOTE]
    assert CaseAction.CUSTOMER_REPLIED in texts
    assert "New toner" in texts[CaseAction.CLOSED]
    assert case_row(casedesk).closed_at is not None
