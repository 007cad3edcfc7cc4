"""The `/case` slash command."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.requester import Requester
from handlers.context import casedesk
from models import EventSource


def register(app: App) -> None:
    app.command("/case")(handle_case_command)


def handle_case_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    who = Requester(command["user_id"], command.get("channel_id"), EventSource.COMMAND)
    reply = casedesk(context).flows.run_command_text(
        command.get("text") or "", who, trigger_id=command.get("trigger_id")
    )
    if reply is not None:
        respond(**reply.as_kwargs(), response_type="ephemeral")
