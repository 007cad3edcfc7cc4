"""Events API: messages in case threads, and App Home opened."""

from __future__ import annotations

from slack_bolt import App

from handlers.acking import Interaction, after_ack

# Message subtypes written by people; edits, joins, bot posts and the like are not replies.
_HUMAN_SUBTYPES = {None, "file_share", "thread_broadcast"}


def register(app: App) -> None:
    app.event("message")(on_message)
    app.event("app_home_opened")(on_app_home_opened)


@after_ack
def on_app_home_opened(request: Interaction) -> None:
    event = request.body["event"]
    if event.get("tab", "home") == "home" and event.get("user"):
        request.app.insights.publish_home(event["user"])


@after_ack
def on_message(request: Interaction) -> None:
    event = request.body["event"]
    thread_ts, ts = str(event.get("thread_ts") or ""), str(event.get("ts") or "")
    is_thread_reply = bool(thread_ts and ts) and thread_ts != ts
    by_a_person = event.get("subtype") in _HUMAN_SUBTYPES and not event.get("bot_id")
    if not (is_thread_reply and by_a_person and event.get("user") and event.get("channel")):
        return
    request.app.flows.record_thread_message(
        event_id=request.body.get("event_id"),
        channel_id=event["channel"],
        thread_ts=thread_ts,
        message_ts=ts,
        user_id=event["user"],
    )
