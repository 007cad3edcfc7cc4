"""Block Kit primitives that enforce Slack's limits, so no caller can build a message Slack
would refuse with `invalid_blocks`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.text import escaped_fit, fit

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
CONTEXT_ELEMENTS = 10
TEXT_FALLBACK_LIMIT = 3000
INPUT_LABEL_LIMIT = 2000


@dataclass(frozen=True)
class SlackMessage:
    """A message: blocks plus the plain `text` fallback shown in notifications."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def message(text: str, blocks: list[Block]) -> SlackMessage:
    """Build a message, folding blocks past Slack's 50 into a note instead of failing."""
    if len(blocks) > MAX_BLOCKS:
        hidden = len(blocks) - (MAX_BLOCKS - 1)
        blocks = [*blocks[: MAX_BLOCKS - 1], context([f"_{hidden} more not shown._"])]
    return SlackMessage(text=fit(text, TEXT_FALLBACK_LIMIT), blocks=blocks)


def plain(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    return {"type": "plain_text", "text": fit(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """Trusted mrkdwn (built by us); user text must go through `user_text` first."""
    return {"type": "mrkdwn", "text": fit(text, limit) or " "}


def user_text(text: str, limit: int = SECTION_LIMIT) -> str:
    """User-typed text, escaped for mrkdwn and cut to `limit`."""
    return escaped_fit(text, limit)


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_LIMIT)}


def section(text: str, *, fields: list[str] | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if fields:
        block["fields"] = [mrkdwn(item, FIELD_LIMIT) for item in fields[:MAX_FIELDS]]
    if accessory:
        block["accessory"] = accessory
    return block


def fields_section(fields: list[str]) -> Block:
    return {
        "type": "section",
        "fields": [mrkdwn(item, FIELD_LIMIT) for item in fields[:MAX_FIELDS]],
    }


def context(items: list[str]) -> Block:
    return {"type": "context", "elements": [mrkdwn(item) for item in items[:CONTEXT_ELEMENTS]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str, action_id: str, value: str = "", *, style: str | None = None, url: str | None = None
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action_id,
    }
    if value:
        element["value"] = fit(value, BUTTON_VALUE_LIMIT)
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    return element


def distinct_action_id(action_id: str, key: object) -> str:
    """`action_id` made unique within its block (Slack refuses two elements with the same
    one): `csat_rate:4`. Listeners match both forms with `action_id_pattern`."""
    return f"{action_id}:{key}"


def action_id_pattern(action_id: str) -> re.Pattern[str]:
    """Matches `action_id` and every `distinct_action_id(action_id, ...)`, so buttons already
    posted with the plain id keep working."""
    return re.compile(rf"^{re.escape(action_id)}(:[^:]+)?$")


def actions(elements: list[Block], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": elements[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def slack_date(moment: datetime, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A date Slack shows in each reader's own time zone, true whenever it is read."""
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{moment.strftime(fallback_format)}>"
