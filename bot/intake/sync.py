"""What a change to a case from a message shows in the requester's own thread: the outbox
row it queues there (the card and the team's thread are bot/cases/sync.py's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.cases.changes import CaseChange
from bot.desk import DeskConfig
from bot.intake.views import conversation_update
from bot.sla.policies import SlaPolicy
from bot.slack.queue import enqueue
from models import OutboxMessage

CONVERSATION = "conversation"  # a post in the requester's thread, for a case from a message


def queue_conversation_update(
    session: Session,
    change: CaseChange,
    desk: DeskConfig,
    policy: SlaPolicy | None,
    now: datetime,
) -> list[OutboxMessage]:
    case = change.case
    if not (case.conversation_channel_id and case.conversation_ts):
        return []
    content = conversation_update(case, change.events, desk, policy)
    if content is None:
        return []
    row = enqueue(
        session,
        kind=CONVERSATION,
        channel_id=case.conversation_channel_id,
        thread_ts=case.conversation_ts,
        content=content,
        now=now,
        case_id=case.id,
    )
    return [row]
