"""Requests as Slack sends them to an app: slash commands, button clicks, message shortcuts,
modal submissions and Events API deliveries (with builders for the ``message`` and
``reaction_added`` / ``reaction_removed`` events), signed with the app's signing secret and
POSTed over HTTP.

The sandbox uses it to deliver what people do on its page; the tests use it to drive the app.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack
from urllib.parse import urlencode

TEAM_ID = "T1"
APP_ID = "A1"
FORM = "application/x-www-form-urlencoded"


class PostOptions(TypedDict, total=False):
    """How a raw POST differs from a well-signed form post to /slack/events."""

    content_type: str
    timestamp: int | None  # when it was signed (now if None)
    signature: str | None  # as sent (the right one if None)
    path: str


@dataclass
class HttpResult:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def sign(secret: str, body: str, timestamp: int) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SignedRequests:
    def __init__(
        self, app_url: str, signing_secret: str, moment: Callable[[], float] = time.time
    ) -> None:
        self.app_url = app_url.rstrip("/")
        self.secret = signing_secret
        # Slack's clock for the timestamps it puts in payloads (a click's action_ts): the
        # bot's clock in tests and the sandbox. Signatures always carry the real time.
        self.moment = moment
        self._ids = itertools.count(1)

    def next_id(self, prefix: str) -> str:
        """An id never handed out before, by this or any other instance (a restarted
        sandbox, a second driver in one test): the app treats a trigger_id or event_id it
        has seen as a repeated request, as it should for Slack's."""
        return f"{prefix}-{next(self._ids)}-{secrets.token_hex(6)}"

    def slash_command(
        self,
        *,
        user: str,
        channel: str,
        text: str,
        response_url: str,
        trigger_id: str,
        command: str = "/case",
    ) -> HttpResult:
        form = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id,
            "api_app_id": APP_ID,
        }
        return self.post(urlencode(form))

    def block_action(
        self,
        *,
        user: str,
        action: dict[str, Any],
        trigger_id: str,
        channel: str | None = None,
        message_ts: str | None = None,
        response_url: str | None = None,
        view: dict[str, Any] | None = None,
    ) -> HttpResult:
        """A click. On a message (channel and message_ts) it carries a response URL; on
        App Home (view) it does not, as in Slack."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "trigger_id": trigger_id,
            "actions": [{"action_ts": f"{self.moment():.6f}", "block_id": "b1", **action}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            payload["channel"] = {"id": channel}
            payload["container"] = {
                "type": "message",
                "channel_id": channel,
                "message_ts": message_ts,
            }
            payload["message"] = {"ts": message_ts, "text": ""}
            payload["response_url"] = response_url
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def message_action(
        self,
        *,
        user: str,
        channel: str,
        message: dict[str, Any],
        trigger_id: str,
        response_url: str,
        callback_id: str = "open_case_from_message",
    ) -> HttpResult:
        """A message shortcut ("Open a case" in a message's menu) on `message`, which is
        sent whole, as Slack shows it (see `slack_message`)."""
        shown = slack_message(message)
        payload = {
            "type": "message_action",
            "token": "legacy",
            "action_ts": f"{self.moment():.6f}",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "name": user.lower(), "team_id": TEAM_ID},
            "channel": {"id": channel, "name": channel_name(channel)},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "response_url": response_url,
            "message_ts": shown["ts"],
            "message": shown,
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def view_submission(
        self, *, user: str, view: dict[str, Any], values: dict[str, str], trigger_id: str
    ) -> HttpResult:
        """Submit a modal the app opened, filling its inputs by block id."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "trigger_id": trigger_id,
            "view": {**view, "state": {"values": modal_state(view, values)}},
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def event(self, event: dict[str, Any], *, event_id: str | None = None) -> HttpResult:
        body = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}{secrets.token_hex(6).upper()}",
            "event_time": int(time.time()),
            "event": event,
        }
        return self.post(json.dumps(body), content_type="application/json")

    def post(self, body: str, **options: Unpack[PostOptions]) -> HttpResult:
        timestamp = options.get("timestamp")
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": options.get("content_type", FORM),
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": options.get("signature") or sign(self.secret, body, timestamp),
        }
        return self.http("POST", options.get("path", "/slack/events"), body.encode(), headers)

    def http(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> HttpResult:
        request = urllib.request.Request(
            self.app_url + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return HttpResult(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return HttpResult(error.code, error.read().decode())


def slack_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message as Slack shows it to apps: its fields that are set (type, user, ts, text,
    thread_ts, files, bot_id, reactions...), without the channel it is in."""
    shown = {k: v for k, v in message.items() if v is not None and k != "channel"}
    return {"type": "message", **shown}


def channel_name(channel: str) -> str:
    return "directmessage" if channel.startswith("D") else channel.lower()


def channel_type(channel: str) -> str:
    return "im" if channel.startswith("D") else "channel"


def message_event(
    channel: str, message: dict[str, Any], *, parent_user: str | None = None
) -> dict[str, Any]:
    """The ``message`` event Slack delivers for a message a person wrote: a reply in a
    thread carries ``thread_ts`` (and ``parent_user_id``, the thread's author, when known),
    a file share its ``subtype`` and ``files``."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": message.get("user"),
        "text": message.get("text", ""),
        "ts": message["ts"],
    }
    if message.get("subtype"):
        event["subtype"] = message["subtype"]
    if message.get("files"):
        event["files"] = message["files"]
    if message.get("thread_ts") not in (None, message["ts"]):
        event["thread_ts"] = message["thread_ts"]
        if parent_user:
            event["parent_user_id"] = parent_user
    event.update(event_ts=message["ts"], channel_type=channel_type(channel))
    return event


def reaction_event(
    kind: str, *, user: str, name: str, channel: str, ts: str, item_user: str | None, at: float
) -> dict[str, Any]:
    """A ``reaction_added`` or ``reaction_removed`` event (`kind`) for a message."""
    return {
        "type": kind,
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "item_user": item_user,
        "event_ts": f"{at:.6f}",
    }


def modal_state(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """`view.state.values` as Slack builds it from what was typed and chosen."""
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
            # What is not typed over stays as the form showed it.
            typed = chosen if block_id in values else element.get("initial_value")
            state[block_id] = {element["action_id"]: {"type": element["type"], "value": typed}}
    return state
