"""Events API: messages (in case threads, and new ones in help channels), reactions, and
App Home opened."""

from __future__ import annotations

from slack_bolt import App

from bot.intake.messages import IncomingMessage
from bot.requester import Requester, slack_moment
from handlers.acking import Interaction, after_ack
from models import EventSource


def register(app: App) -> None:
    app.event("message")(on_message)
    app.event("reaction_added")(on_reaction_added)
    app.event("reaction_removed")(on_reaction_removed)
    app.event("app_home_opened")(on_app_home_opened)


@after_ack
def on_app_home_opened(request: Interaction) -> None:
    event = request.body["event"]
    if event.get("tab", "home") == "home" and event.get("user"):
        request.app.insights.publish_home(event["user"])


@after_ack
def on_message(request: Interaction) -> None:
    event, event_id = request.body["event"], request.body.get("event_id")
    if not event.get("channel"):
        return
    message = IncomingMessage.from_slack(event["channel"], event)
    if not (message.ts and message.by_a_person):
        return  # edits, joins, deletions, bots
    if message.thread_ts is None:
        request.app.intake.channel_message(event_id=event_id, incoming=message)
        return
    request.app.flows.record_thread_message(
        event_id=event_id,
        channel_id=message.channel_id,
        thread_ts=message.thread_ts,
        message_ts=message.ts,
        user_id=str(message.author_id),
    )


@after_ack
def on_reaction_added(request: Interaction) -> None:
    """An emoji on a message: the flow decides what it asks (a claim, a close, a case)."""
    event = request.body["event"]
    item, user = event.get("item") or {}, event.get("user")
    if item.get("type") != "message" or not (user and item.get("channel") and item.get("ts")):
        return
    who = Requester(
        user, item["channel"], EventSource.REACTION, at=slack_moment(event.get("event_ts"))
    )
    request.app.reactions.reaction_added(
        who,
        event_id=request.body.get("event_id"),
        channel_id=item["channel"],
        ts=item["ts"],
        emoji=str(event.get("reaction", "")).split("::")[0],  # without a skin tone
    )


@after_ack
def on_reaction_removed(request: Interaction) -> None:
    """A reaction taken back changes nothing: what it opened, claimed or closed stays."""
