"""The sandbox's people at work: what someone does on the page (typing, clicking, picking a
person, a message's shortcut, reacting, submitting a modal, opening the Home tab, moving the
clock), turned into what Slack would send the bot, and the workspace as that person sees it."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from bot.clock import ManualClock
from bot.desk import DeskConfig
from bot.ids import CallbackId
from bot.runtime.casedesk import Casedesk
from bot.sandbox.signed import HttpResult, SignedRequests, message_event, reaction_event
from bot.sandbox.slack_api import SlackStandIn
from bot.sandbox.slack_state import SlackError
from bot.sandbox.workspace import Persona, channel_directory, personas

log = logging.getLogger(__name__)

CLOCK_STEP = timedelta(minutes=15)
IDLE_WAIT_SECONDS = 10.0  # at most, for the bot to finish what it was doing before time moves

# A channel that routes to no team, as every workspace has: a message there becomes a case
# only when someone asks (the shortcut, the intake emoji).
GENERAL = {"id": "C0GENERAL", "name": "general", "kind": "general"}
# The app's message shortcuts, as its manifest lists them (the ⋯ menu of every message).
SHORTCUTS = [{"callback_id": CallbackId.OPEN_CASE_FROM_MESSAGE.value, "name": "Open a case"}]
_REACTION_ERRORS = {
    "already_reacted": "You already reacted with that.",
    "no_reaction": "You have not reacted with that.",
    "message_not_found": "That message is gone.",
    "invalid_name": "Choose an emoji.",
}


class Sandbox:
    """The page's actions, turned into what Slack would send the bot."""

    def __init__(
        self,
        *,
        desk: DeskConfig,
        clock: ManualClock,
        slack: SlackStandIn,
        casedesk: Casedesk,
        requests: SignedRequests,
    ) -> None:
        self.desk = desk
        self.clock = clock
        self.slack = slack
        self.casedesk = casedesk
        self.requests = requests
        self.people: list[Persona] = personas(desk)
        directory = channel_directory(desk)
        extra = [GENERAL] if all(c["id"] != GENERAL["id"] for c in directory) else []
        self.channels = [*directory, *extra]
        self._clock_lock = threading.Lock()
        self._closed = threading.Event()
        for person in self.people:
            slack.users[person.user_id] = {"real_name": person.name, "name": person.handle}
        # User groups named in app.yaml exist in the stand-in, with the team's listed people.
        for team in desk.teams.values():
            people = [m for m in team.agents + team.managers if not m.startswith("S")]
            for group in (m for m in team.agents + team.managers if m.startswith("S")):
                slack.usergroups.setdefault(group, people)

    # What people do

    def type_text(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """The composer: `/case ...` is a slash command, anything else a message, in the
        channel or in a thread, delivered as Slack's `message` event."""
        text = text.strip()
        if not text:
            return {"ok": False, "error": "Type something first."}
        if text.startswith("/"):
            return self._command(user, channel, text)
        message = self.slack.post_as_user(channel, user, text, thread_ts=thread_ts or None)
        parent = self.slack.message(channel, thread_ts) if thread_ts else None
        event = message_event(channel, message, parent_user=(parent or {}).get("user"))
        return _answered(self.requests.event(event))

    def _command(self, user: str, channel: str, text: str) -> dict[str, Any]:
        command, _, rest = text.partition(" ")
        if command != "/case":
            return {"ok": False, "error": f"{command} is not a command here; try /case help"}
        key = self.requests.next_id("cmd")
        self._expect_response(key, user, channel)
        result = self.requests.slash_command(
            user=user,
            channel=channel,
            text=rest,
            response_url=self.slack.response_url(key),
            trigger_id=self._trigger(user),
        )
        return _answered(result)

    def click(self, user: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A button on a message (or on the Home tab)."""
        action = {
            "type": "button",
            "action_id": str(payload.get("action_id", "")),
            "value": str(payload.get("value", "")),
        }
        return self._block_action(user, action, payload)

    def pick(self, user: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A person picked in a users select (a card's "Assign to…")."""
        picked = str(payload.get("selected_user", ""))
        if not picked:
            return {"ok": False, "error": "Pick someone first."}
        action = {
            "type": "users_select",
            "action_id": str(payload.get("action_id", "")),
            "block_id": str(payload.get("block_id", "")),
            "selected_user": picked,
        }
        return self._block_action(user, action, payload)

    def _block_action(
        self, user: str, action: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any]:
        trigger = self._trigger(user)
        if payload.get("home"):
            view = self.slack.home_views.get(user, {})
            result = self.requests.block_action(
                user=user, action=action, trigger_id=trigger, view=view
            )
            return {"ok": result.status == 200}
        channel = str(payload.get("channel", ""))
        key = self.requests.next_id("click")
        replace = str(payload["message_ts"]) if payload.get("ephemeral") else None
        self._expect_response(key, user, channel, replace_ts=replace)
        result = self.requests.block_action(
            user=user,
            action=action,
            trigger_id=trigger,
            channel=channel,
            message_ts=str(payload.get("message_ts", "")),
            response_url=self.slack.response_url(key),
        )
        return {"ok": result.status == 200}

    def shortcut(
        self, user: str, channel: str, ts: str, callback_id: str | None = None
    ) -> dict[str, Any]:
        """A shortcut in a message's ⋯ menu ("Open a case"): the message, whole, as Slack
        sends it; what the bot answers at the response URL is shown to this person."""
        message = self.slack.message(channel, ts)
        if message is None:
            return {"ok": False, "error": "That message is gone."}
        key = self.requests.next_id("shortcut")
        self._expect_response(key, user, channel)
        result = self.requests.message_action(
            user=user,
            channel=channel,
            message=message,
            trigger_id=self._trigger(user),
            response_url=self.slack.response_url(key),
            callback_id=callback_id or SHORTCUTS[0]["callback_id"],
        )
        return {"ok": result.status == 200}

    def react(
        self, user: str, channel: str, ts: str, name: str, *, added: bool = True
    ) -> dict[str, Any]:
        """An emoji put on (or taken off) a message, then `reaction_added` (or
        `reaction_removed`) delivered, as Slack does."""
        name = name.strip().strip(":")
        change = self.slack.react if added else self.slack.unreact
        try:
            message = change(channel, ts, user, name)
        except SlackError as error:
            return {"ok": False, "error": _REACTION_ERRORS.get(str(error), str(error))}
        event = reaction_event(
            "reaction_added" if added else "reaction_removed",
            user=user,
            name=name,
            channel=channel,
            ts=ts,
            item_user=message.get("user"),
            at=self.clock.now().timestamp(),
        )
        return _answered(self.requests.event(event))

    def submit(self, user: str, view_id: str, values: dict[str, str]) -> dict[str, Any]:
        view = self.slack.views.get(view_id)
        if view is None or view_id in self.slack.closed_views:
            return {"ok": False, "error": "That form is closed."}
        result = self.requests.view_submission(
            user=user, view=view, values=values, trigger_id=self._trigger(user)
        )
        answer = result.json() if result.body.strip().startswith("{") else None
        if isinstance(answer, dict) and answer.get("response_action") == "errors":
            return {"ok": False, "errors": answer.get("errors", {})}
        self.slack.close_view(view_id)
        return {"ok": result.status == 200}

    def open_home(self, user: str) -> dict[str, Any]:
        event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
        return {"ok": self.requests.event(event).status == 200}

    def advance(self, minutes: int) -> dict[str, Any]:
        """Move the clock in steps, running the scheduler's jobs at each, as time would. Time
        moves once the bot has done what it was doing (a claim's card update is not left
        half-delivered half an hour ago), and every page shows the bot's new time."""
        if not 0 < minutes <= 60 * 24 * 14:
            return {"ok": False, "error": "Advance between 1 minute and 14 days."}
        if self._closed.is_set():
            return {"ok": False, "error": "The sandbox is stopping."}
        with self._clock_lock:
            remaining = timedelta(minutes=minutes)
            while remaining > timedelta(0) and not self._closed.is_set():
                self.casedesk.executor.wait_idle(timeout=IDLE_WAIT_SECONDS)
                step = min(CLOCK_STEP, remaining)
                self.clock.advance(step)
                remaining -= step
                self.run_jobs()
                self.slack.announce_change()
        return {"ok": True, "now": self.clock.now().isoformat()}

    def close(self) -> None:
        """The sandbox is stopping: time stops too. A move under way ends after the step it is
        in (waited for here), before the bot and its Slack go away beneath it."""
        self._closed.set()
        with self._clock_lock:
            pass

    def run_jobs(self) -> None:
        for job in self.casedesk.jobs:
            try:
                job.run()
            except Exception:  # keep the sandbox going; the log shows what broke
                log.exception("job %s failed in the sandbox", job.name)

    # What the page reads

    def state(self, user: str) -> dict[str, Any]:
        slack = self.slack
        names = {person.user_id: person.name for person in self.people}
        channels = [*self.channels, *self._direct_channels(user)]
        messages = {channel["id"]: slack.messages(channel["id"]) for channel in channels}
        replies = {
            channel["id"]: {
                message["ts"]: slack.thread(channel["id"], message["ts"])
                for message in messages[channel["id"]]
                if message.get("reply_count")
            }
            for channel in channels
        }
        return {
            "version": slack.version,
            "now": self.clock.now().isoformat(),
            "people": [person.as_json() for person in self.people],
            "names": names,
            "teams": {key: team.name for key, team in self.desk.teams.items()},
            "channels": channels,
            "messages": messages,
            "replies": replies,
            "ephemerals": slack.ephemerals(user),
            "modal": slack.open_view_of(user),
            "home": slack.home_views.get(user),
            "shortcuts": SHORTCUTS,
        }

    def _direct_channels(self, user: str) -> list[dict[str, str]]:
        """The bot's DMs with this person (Slack delivers posts to a user ID there)."""
        ids = [c for c in self.slack.channel_ids() if c in (user, f"D{user}")]
        return [{"id": c, "name": "Casedesk (DM)", "kind": "dm"} for c in ids]

    # Plumbing

    def _trigger(self, user: str) -> str:
        trigger = self.requests.next_id("trigger")
        self.slack.trigger_users[trigger] = user
        return trigger

    def _expect_response(
        self, key: str, user: str, channel: str, *, replace_ts: str | None = None
    ) -> None:
        self.slack.response_contexts[key] = {
            "user": user,
            "channel": channel,
            "replace_ts": replace_ts,
        }


def _answered(result: HttpResult) -> dict[str, Any]:
    return {"ok": result.status == 200, "status": result.status}
