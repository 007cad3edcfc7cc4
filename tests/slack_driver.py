"""Acts as Slack towards the running app: signed slash commands, button clicks, modal
submissions and Events API deliveries over real HTTP, then waits until the app has finished
the work it acknowledged."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fake_slack import FakeSlack

from bot.executor import TrackingExecutor

TEAM_ID = "T1"
_FORM = "application/x-www-form-urlencoded"


@dataclass
class HttpResult:
    status: int
    body: str
    # What the app sent to this request's response_url (Bolt's respond()).
    responses: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def reply_text(self) -> str:
        """Everything the user was told through the response URL, blocks included."""
        return "\n".join(_all_text(response) for response in self.responses)


def sign(secret: str, body: str, timestamp: int) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackDriver:
    def __init__(
        self, url: str, signing_secret: str, fake: FakeSlack, executor: TrackingExecutor
    ) -> None:
        self.url = url.rstrip("/")
        self.secret = signing_secret
        self.fake = fake
        self.executor = executor
        self._ids = itertools.count(1)

    # What people do in Slack

    def command(self, user: str, text: str, *, channel: str = "C0SUPPORT") -> HttpResult:
        key = f"cmd-{next(self._ids)}"
        form = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "channel_name": "support",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/case",
            "text": text,
            "response_url": self.fake.response_url(key),
            "trigger_id": f"trigger-{key}",
            "api_app_id": "A1",
        }
        return self._deliver(urlencode(form), "application/x-www-form-urlencoded", key)

    def click(
        self,
        user: str,
        action_id: str,
        value: str,
        *,
        channel: str = "C0SUPPORT",
        message_ts: str = "1700000000.000100",
    ) -> HttpResult:
        key = f"click-{next(self._ids)}"
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{key}",
            "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel, "message_ts": message_ts},
            "message": {"ts": message_ts, "text": "card"},
            "response_url": self.fake.response_url(key),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": str(time.time()),
                }
            ],
        }
        return self._deliver(urlencode({"payload": json.dumps(payload)}), _FORM, key)

    def submit(self, user: str, view: dict[str, Any], values: dict[str, str]) -> HttpResult:
        """Submit a modal the app opened, filling its inputs by block id."""
        state: dict[str, Any] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            block_id, element = block["block_id"], block["element"]
            chosen = values.get(block_id)
            if element["type"] == "static_select":
                option = next(
                    (o for o in element["options"] if o["value"] == chosen),
                    element.get("initial_option"),
                )
                state[block_id] = {
                    element["action_id"]: {"type": "static_select", "selected_option": option}
                }
            else:
                state[block_id] = {element["action_id"]: {"type": element["type"], "value": chosen}}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{next(self._ids)}",
            "view": {**view, "id": view.get("id", "V1"), "state": {"values": state}},
        }
        return self._deliver(urlencode({"payload": json.dumps(payload)}), _FORM, None)

    def thread_reply(
        self, user: str, channel: str, thread_ts: str, text: str, *, event_id: str | None = None
    ) -> HttpResult:
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "thread_ts": thread_ts,
            "channel_type": "channel",
        }
        return self.event(event, event_id=event_id)

    def event(self, event: dict[str, Any], *, event_id: str | None = None) -> HttpResult:
        body = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):06d}",
            "event_time": int(time.time()),
            "event": event,
        }
        return self._deliver(json.dumps(body), "application/json", None)

    # Raw HTTP, for signature and malformed-payload tests

    def post(
        self,
        body: str,
        *,
        content_type: str = _FORM,
        timestamp: int | None = None,
        signature: str | None = None,
        path: str = "/slack/events",
    ) -> HttpResult:
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature or sign(self.secret, body, timestamp),
        }
        return self._http("POST", path, body.encode(), headers)

    def get(self, path: str) -> HttpResult:
        return self._http("GET", path, None, {})

    def _deliver(self, body: str, content_type: str, key: str | None) -> HttpResult:
        result = self.post(body, content_type=content_type)
        assert self.executor.wait_idle(timeout=60), "the app did not finish its work in time"
        if key is not None:
            result.responses = self.fake.responses_for(key)
        return result

    def _http(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> HttpResult:
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return HttpResult(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return HttpResult(error.code, error.read().decode())


def _all_text(value: Any) -> str:
    """Every `text` string in a Slack payload, depth first."""
    if isinstance(value, dict):
        own = value.get("text") if isinstance(value.get("text"), str) else ""
        nested = [_all_text(v) for k, v in value.items() if k != "text" or not isinstance(v, str)]
        return "\n".join(part for part in [own, *nested] if part)
    if isinstance(value, list):
        return "\n".join(part for part in (_all_text(v) for v in value) if part)
    return ""
