"""Shortcuts: "Open a case" on a message (callback id `open_case_from_message`)."""

from __future__ import annotations

from slack_bolt import App

from bot.ids import CallbackId
from bot.intake.messages import IncomingMessage
from handlers.acking import Interaction, after_ack
from models import EventSource


def register(app: App) -> None:
    app.message_shortcut(CallbackId.OPEN_CASE_FROM_MESSAGE.value)(open_case_from_message)


@after_ack
def open_case_from_message(request: Interaction) -> None:
    body = request.body
    channel = body["channel"]["id"]
    who = request.who(body["user"]["id"], channel, EventSource.SHORTCUT)
    shared = IncomingMessage.from_slack(channel, body["message"])
    reply = request.app.intake.shortcut(who, shared, body.get("trigger_id"))
    if reply is not None:
        request.reply(reply)
