"""The front door and requests Slack did not sign: each gets 401, nothing is acted on or
answered (not even a response_url that hangs), a flood adds only short lines to the log, and the
error handler answers only what the edge verified."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import REQUESTER, SIGNING_SECRET
from fake_slack import FakeSlack
from front_door_helpers import block_actions, post_raw
from helpers import case_count, command_form
from slack_driver import SlackDriver

from bot.runtime.casedesk import Casedesk
from bot.sandbox.signed import sign

ZEROS = "v0=" + "0" * 64


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
