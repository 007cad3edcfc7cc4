"""Updates in place, one at a time per message, the newest winning.

A card update renders the case when it is delivered, so the one sent last shows every change
committed before it: the other card updates still queued are superseded, and one waits while
another update of the same card is on its way.

Every other update (an SLA alert or digest drawn again, the survey showing its rating, the old
card of a case that moved) carries the content of its own change, fixed when it was queued, so
the newest queued for a message is the one that must land:
- an update overtaken by a newer one of the same message (queued, on its way or out) has
  nothing to add and is superseded, also when it comes up for a retry after the newer one;
- a newer one waits while an older one is on its way, so they reach Slack in order, and
  supersedes the older ones still queued or in doubt;
- each is tagged in Slack's message metadata with its row (see `bot/slack/outbox.py`), so one
  whose answer was lost is looked for on the message before it is sent again.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.slack.queue import CARD_UPDATE, UPDATE
from models import OutboxMessage


class Turn(enum.Enum):
    GO = "go"
    WAIT = "wait"  # another update of the message is on its way to Slack
    OVERTAKEN = "overtaken"  # a newer update of the message carries what this one would say


def fixed_update(row: OutboxMessage) -> bool:
    """Whether the row updates a message with content fixed when it was queued."""
    return row.op == UPDATE and row.kind != CARD_UPDATE


def update_turn(session: Session, row: OutboxMessage, fresh_since: datetime) -> Turn:
    """Whether an update about to be claimed goes now; rows held by a deliverer whose lease
    began after `fresh_since` are on their way. Superseding the older updates it makes
    pointless is part of going."""
    if row.kind == CARD_UPDATE:
        if _card_update_in_flight(session, row, fresh_since):
            return Turn.WAIT
        _supersede(session, _card_updates(row), OutboxMessage.id != row.id, state="pending")
        return Turn.GO
    if not fixed_update(row):
        return Turn.GO
    same = _same_message(row)
    newer = select(OutboxMessage.id).where(
        *same, OutboxMessage.id > row.id, OutboxMessage.state != "superseded"
    )
    if session.scalar(newer.limit(1)) is not None:
        return Turn.OVERTAKEN
    in_flight = select(OutboxMessage.id).where(
        *same,
        OutboxMessage.id < row.id,
        OutboxMessage.state == "sending",
        OutboxMessage.claim_token.is_not(None),
        OutboxMessage.sending_since > fresh_since,
    )
    if session.scalar(in_flight.limit(1)) is not None:
        return Turn.WAIT
    for state in ("pending", "sending"):  # queued, or in doubt with nobody holding them
        _supersede(session, same, OutboxMessage.id < row.id, state=state)
    return Turn.GO


def _same_message(row: OutboxMessage) -> list[Any]:
    """The fixed-content updates of the row's message (found through ix_outbox_case_id_kind)."""
    case = (
        OutboxMessage.case_id.is_(None)
        if row.case_id is None
        else OutboxMessage.case_id == row.case_id
    )
    return [
        case,
        OutboxMessage.kind == row.kind,
        OutboxMessage.channel_id == row.channel_id,
        OutboxMessage.target_ts == row.target_ts,
    ]


def _card_updates(row: OutboxMessage) -> list[Any]:
    return [OutboxMessage.case_id == row.case_id, OutboxMessage.kind == CARD_UPDATE]


def _supersede(session: Session, same: list[Any], *which: Any, state: str) -> None:
    """Supersede the rows in `state` (dropping any stale holder's claim on them)."""
    session.execute(
        update(OutboxMessage)
        .where(*same, *which, OutboxMessage.state == state)
        .values(state="superseded", claim_token=None)
    )


def _card_update_in_flight(session: Session, row: OutboxMessage, fresh_since: datetime) -> bool:
    """Whether another deliverer is updating the same card right now."""
    other = session.scalar(
        select(OutboxMessage.id)
        .where(
            *_card_updates(row),
            OutboxMessage.state == "sending",
            OutboxMessage.sending_since > fresh_since,
            OutboxMessage.id != row.id,
        )
        .limit(1)
    )
    return other is not None
