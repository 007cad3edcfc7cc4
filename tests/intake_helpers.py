"""What the modules about cases from conversations share: a desk whose help channel opens
cases by itself, people writing in channels, and reading the requester's thread."""

from __future__ import annotations

from conftest import DESK_YAML, HELP_CHANNEL, REQUESTER
from fake_slack import FakeSlack
from helpers import Json
from slack_driver import SlackDriver
from sqlalchemy import select

from bot.runtime.casedesk import Casedesk
from models import CaseMessage

RANDOM_CHANNEL = "C0RANDOM"  # a channel that routes to no team: cases go to the default team

# The test desk, with support's help channel (C0HELP) opening a case for every new message.
AUTO_INTAKE_YAML = DESK_YAML.replace(
    "    default_priority: p3\n", "    default_priority: p3\n    intake: {auto: true}\n", 1
)


def write(
    slack: SlackDriver, text: str, *, user: str = REQUESTER, channel: str = HELP_CHANNEL
) -> Json:
    """Someone writes a new message in a channel; Slack delivers it to the app."""
    message, result = slack.post_message(user, channel, text)
    assert result.status == 200, result.body
    return message


def conversation(fake: FakeSlack, message: Json) -> list[str]:
    """What the bot said in the thread of the message (the requester's conversation), as
    notifications show it."""
    channel, ts = message["channel"], message.get("thread_ts") or message["ts"]
    return [str(reply["text"]) for reply in fake.thread(channel, ts) if reply.get("bot_id")]


def reaction_added(user: str, channel: str, ts: str, name: str, author: str) -> Json:
    """The Events API's reaction_added, as Slack delivers it."""
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "item_user": author,
        "event_ts": ts,
    }


def permalink(fake: FakeSlack, channel: str, ts: str) -> str:
    """The link Slack gives a top-level message (chat.getPermalink)."""
    return f"{fake.workspace_url}archives/{channel}/p{ts.replace('.', '')}"


def messages_of_case(casedesk: Casedesk, number: int) -> list[str]:
    """The timestamps of the messages that are the case's request, in order."""
    with casedesk.db.read_only() as session:
        rows = session.scalars(
            select(CaseMessage).where(CaseMessage.case_id == number).order_by(CaseMessage.at)
        ).all()
    return [row.message_ts for row in rows]
