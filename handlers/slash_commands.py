"""The `/case` slash command."""

from __future__ import annotations

from slack_bolt import App

from handlers.acking import Interaction, after_ack
from models import EventSource


def register(app: App) -> None:
    app.command("/case")(handle_case_command)


@after_ack
def handle_case_command(request: Interaction) -> None:
    command = request.body
    who = request.who(command["user_id"], command.get("channel_id"), EventSource.COMMAND)
    reply = request.app.flows.run_command_text(
        command.get("text") or "", who, trigger_id=command.get("trigger_id")
    )
    if reply is not None:
        request.reply(reply)
