"""What the modules about the front door (/slack/events) share: posting raw bodies, and the
block actions payload Slack sends for a click."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from conftest import AGENT, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import click_payload
from slack_driver import HttpResult, SlackDriver

from bot.ids import ActionId


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


# What Slack sends for a click, and field by field what it does not


def block_actions(fake: FakeSlack, **changes: Any) -> dict[str, Any]:
    """The payload of AGENT's click on case #1's Claim button in the support channel, with
    `changes` to its fields (a change to `...` leaves the field out)."""
    payload = click_payload(
        AGENT,
        "trigger-malformed",
        channel={"id": SUPPORT_CHANNEL},
        container={"type": "message", "channel_id": SUPPORT_CHANNEL},
        response_url=fake.response_url("malformed"),
        actions=[{"type": "button", "action_id": ActionId.CLAIM, "value": "1"}],
    )
    return {key: value for key, value in {**payload, **changes}.items() if value is not ...}
