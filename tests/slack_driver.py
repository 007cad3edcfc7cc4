"""Acts as Slack towards the running app: signed slash commands, button clicks, message
shortcuts, modal submissions and Events API deliveries over real HTTP (built by
bot/sandbox/signed.py), then waits until the app has finished the work it acknowledged.

What people write and react with is also put into the Slack stand-in (`fake`), so the app
finds it there when it reads the conversation back."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Unpack

from fake_slack import FakeSlack, SlackError

from bot.runtime.executor import ListenerPools
from bot.sandbox.signed import HttpResult as SignedResult
from bot.sandbox.signed import PostOptions, SignedRequests, message_event, reaction_event


@dataclass
class HttpResult:
    status: int
    body: str
    # What the app sent to this request's response_url (Bolt's respond()).
    responses: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> Any:
        return SignedResult(self.status, self.body).json()

    @property
    def reply_text(self) -> str:
        """Everything the user was told through the response URL, blocks included."""
        return "\n".join(_all_text(response) for response in self.responses)


class SlackDriver:
    def __init__(
        self,
        url: str,
        signing_secret: str,
        fake: FakeSlack,
        executor: ListenerPools,
        moment: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/")
        self.secret = signing_secret
        self.fake = fake
        self.executor = executor
        self.moment = moment  # Slack's clock: message ts and action_ts follow it
        self.requests = SignedRequests(self.url, signing_secret, moment)

    # What people do in Slack

    def command(self, user: str, text: str, *, channel: str = "C0SUPPORT") -> HttpResult:
        key = self.requests.next_id("cmd")
        return self._settled(
            self.requests.slash_command(
                user=user,
                channel=channel,
                text=text,
                response_url=self.fake.response_url(key),
                trigger_id=f"trigger-{key}",
            ),
            key,
        )

    def click(
        self,
        user: str,
        action_id: str,
        value: str,
        *,
        channel: str = "C0SUPPORT",
        message_ts: str = "1700000000.000100",
    ) -> HttpResult:
        action = {"type": "button", "action_id": action_id, "value": value}
        return self._act(user, action, channel=channel, message_ts=message_ts)

    def pick_user(
        self,
        user: str,
        action_id: str,
        block_id: str,
        picked: str,
        *,
        channel: str = "C0SUPPORT",
        message_ts: str = "1700000000.000100",
    ) -> HttpResult:
        """Pick a person in a users select (e.g. a card's "Assign to…")."""
        action = {
            "type": "users_select",
            "action_id": action_id,
            "block_id": block_id,
            "selected_user": picked,
        }
        return self._act(user, action, channel=channel, message_ts=message_ts)

    def _act(
        self, user: str, action: dict[str, Any], *, channel: str, message_ts: str
    ) -> HttpResult:
        """One block action on a message, answered through its response URL."""
        key = self.requests.next_id("click")
        return self._settled(
            self.requests.block_action(
                user=user,
                action=action,
                trigger_id=f"trigger-{key}",
                channel=channel,
                message_ts=message_ts,
                response_url=self.fake.response_url(key),
            ),
            key,
        )

    def submit(self, user: str, view: dict[str, Any], values: dict[str, str]) -> HttpResult:
        """Submit a modal the app opened, filling its inputs by block id."""
        view = {**view, "id": view.get("id", "V1")}
        result = self.requests.view_submission(
            user=user, view=view, values=values, trigger_id=self.requests.next_id("trigger")
        )
        return self._settled(result, None)

    def thread_reply(
        self, user: str, channel: str, thread_ts: str, text: str, *, event_id: str | None = None
    ) -> HttpResult:
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": f"{self.moment():.6f}",
            "thread_ts": thread_ts,
            "channel_type": "channel",
        }
        return self.event(event, event_id=event_id)

    def post_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
        subtype: str | None = None,
        event_id: str | None = None,
    ) -> tuple[dict[str, Any], HttpResult]:
        """`user` writes in a channel (or a thread): the message is kept in the stand-in,
        its ts at Slack's clock, and its `message` event delivered. Returns both."""
        message = self.fake.post_as_user(
            channel,
            user,
            text,
            thread_ts=thread_ts,
            files=files,
            subtype=subtype,
            at=self.moment(),
        )
        parent = self.fake.message(channel, thread_ts) if thread_ts else None
        event = message_event(channel, message, parent_user=(parent or {}).get("user"))
        return message, self.event(event, event_id=event_id)

    def shortcut(
        self,
        user: str,
        channel: str,
        message_ts: str,
        *,
        callback_id: str = "open_case_from_message",
    ) -> HttpResult:
        """A message shortcut on a message in the stand-in, answered through its response
        URL (collected in the result's `responses`)."""
        message = self.fake.message(channel, message_ts)
        assert message is not None, f"no message {message_ts} in {channel} to use a shortcut on"
        key = self.requests.next_id("shortcut")
        return self._settled(
            self.requests.message_action(
                user=user,
                channel=channel,
                message=message,
                trigger_id=f"trigger-{key}",
                response_url=self.fake.response_url(key),
                callback_id=callback_id,
            ),
            key,
        )

    def react(
        self, user: str, channel: str, ts: str, name: str, *, event_id: str | None = None
    ) -> HttpResult:
        """`user` adds an emoji to a message in the stand-in; `reaction_added` is delivered."""
        return self._reaction("reaction_added", user, channel, ts, name, event_id)

    def unreact(
        self, user: str, channel: str, ts: str, name: str, *, event_id: str | None = None
    ) -> HttpResult:
        """`user` takes their emoji off a message; `reaction_removed` is delivered."""
        return self._reaction("reaction_removed", user, channel, ts, name, event_id)

    def _reaction(
        self, kind: str, user: str, channel: str, ts: str, name: str, event_id: str | None
    ) -> HttpResult:
        name = name.strip(":")
        change = self.fake.react if kind == "reaction_added" else self.fake.unreact
        try:
            message = change(channel, ts, user, name)
        except SlackError as error:
            raise AssertionError(f"{kind} {name} on {ts} in {channel}: {error}") from error
        event = reaction_event(
            kind,
            user=user,
            name=name,
            channel=channel,
            ts=ts,
            item_user=message.get("user"),
            at=self.moment(),
        )
        return self.event(event, event_id=event_id)

    def event(self, event: dict[str, Any], *, event_id: str | None = None) -> HttpResult:
        return self._settled(self.requests.event(event, event_id=event_id), None)

    # Raw HTTP, for signature and malformed-payload tests

    def post(self, body: str, **options: Unpack[PostOptions]) -> HttpResult:
        result = self.requests.post(body, **options)
        return HttpResult(result.status, result.body)

    def get(self, path: str) -> HttpResult:
        result = self.requests.http("GET", path, None, {})
        return HttpResult(result.status, result.body)

    def _settled(self, result: SignedResult, key: str | None) -> HttpResult:
        assert self.executor.wait_idle(timeout=60), "the app did not finish its work in time"
        responses = self.fake.responses_for(key) if key is not None else []
        return HttpResult(result.status, result.body, responses)


def _all_text(value: Any) -> str:
    """Every `text` string in a Slack payload, depth first."""
    if isinstance(value, dict):
        own = value.get("text") if isinstance(value.get("text"), str) else ""
        nested = [_all_text(v) for k, v in value.items() if k != "text" or not isinstance(v, str)]
        return "\n".join(part for part in [own, *nested] if part)
    if isinstance(value, list):
        return "\n".join(part for part in (_all_text(v) for v in value) if part)
    return ""
