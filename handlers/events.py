"""Events API: messages in case threads."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from handlers.context import casedesk

# Message subtypes written by people; edits, joins, bot posts and the like are not replies.
_HUMAN_SUBTYPES = {None, "file_share", "thread_broadcast"}


def register(app: App) -> None:
    app.event("message")(on_message)
    app.event("app_home_opened")(on_app_home_opened)


def on_app_home_opened(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab", "home") == "home" and event.get("user"):
        casedesk(context).insights.publish_home(event["user"])


def on_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    thread_ts, ts = str(event.get("thread_ts") or ""), str(event.get("ts") or "")
    is_thread_reply = bool(thread_ts and ts) and thread_ts != ts
    by_a_person = event.get("subtype") in _HUMAN_SUBTYPES and not event.get("bot_id")
    if not (is_thread_reply and by_a_person and event.get("user") and event.get("channel")):
        return
    casedesk(context).flows.record_thread_message(
        event_id=body.get("event_id"),
        channel_id=event["channel"],
        thread_ts=thread_ts,
        message_ts=ts,
        user_id=event["user"],
    )
