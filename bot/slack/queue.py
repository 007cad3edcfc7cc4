"""Outbox rows: what a change queues for Slack, in the change's own transaction.

`enqueue` writes one row; the deliverer (bot/slack/outbox.py) sends it after commit. Cards are
queued without content: `CardSource` renders them from the case when they are delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.ids import ActionId
from bot.slack.blocks import SlackMessage
from models import OutboxMessage

METADATA_EVENT_TYPE = "casedesk_outbox"

# What a row does in Slack.
POST, UPDATE, DELETE = "post", "update", "delete"
OP_METHODS = {POST: "chat.postMessage", UPDATE: "chat.update", DELETE: "chat.delete"}

# Rows rendered from the case when delivered.
CARD = "card"  # post the case's card in its team's channel
CARD_UPDATE = "card_update"  # bring the posted card up to date
CARD_WITHDRAWN = "card_withdrawn"  # take back a card that must not stay (a second one, a moved one)


@dataclass(frozen=True)
class CardRender:
    """A case's card as it should look now, and where it is (if it was posted)."""

    channel: str  # the team channel a new card goes to
    content: SlackMessage
    card_channel: str | None
    card_ts: str | None


class CardSource(Protocol):
    def render_card(self, session: Session, case_id: int) -> CardRender | None:
        """The card of the case as it is now; None if there is no such case."""

    def card_outstanding(self, session: Session, case_id: int) -> bool:
        """Whether a card post for the case is still on its way."""

    def card_posted(self, session: Session, case_id: int, channel_id: str, ts: str) -> bool:
        """Record the posted card on the case; False if it must be taken back (the case has
        another card, or moved to another team's channel meanwhile)."""


def enqueue(
    session: Session,
    *,
    kind: str,
    channel_id: str,
    now: datetime,
    content: SlackMessage | None = None,
    op: str = POST,
    thread_ts: str | None = None,
    target_ts: str | None = None,
    in_case_thread: bool = False,
    case_id: int | None = None,
    link_to: tuple[str, str] | None = None,
    meta: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Queue a Slack write in the caller's transaction. `link_to` (channel, ts) asks the
    deliverer to fill the `url` of buttons with action id OPEN_LINK with that message's
    permalink; `meta` is what the message is about, for drawing it again later."""
    payload: dict[str, Any] = (
        {"text": content.text, "blocks": content.blocks} if content is not None else {}
    )
    if link_to:
        payload["link_to"] = list(link_to)
    if meta:
        payload["meta"] = meta
    message = OutboxMessage(
        kind=kind,
        op=op,
        channel_id=channel_id,
        thread_ts=thread_ts,
        target_ts=target_ts,
        in_case_thread=in_case_thread,
        payload=payload,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        case_id=case_id,
    )
    session.add(message)
    return message


def slack_content(payload: dict[str, Any], link: str | None) -> SlackMessage:
    """A queued row's message, with `link` filled into its "Open case" buttons (dropped when
    there is no link)."""
    blocks = payload.get("blocks") or []
    if payload.get("link_to"):
        blocks = [_with_link(block, link) for block in blocks]
    return SlackMessage(text=str(payload.get("text", "")), blocks=blocks)


def _with_link(block: dict[str, Any], url: str | None) -> dict[str, Any]:
    if block.get("type") != "actions":
        return block
    elements = []
    for element in block.get("elements", []):
        if element.get("action_id") == ActionId.OPEN_LINK:
            if not url:
                continue
            element = {**element, "url": url}
        elements.append(element)
    return {**block, "elements": elements}
