"""Events API deliveries recorded once.

Slack retries an Events API delivery with the same `event_id`; the first insert of the id in
`processed_slack_events`, in the transaction of the change the event causes, wins. (Slash
commands, clicks and forms are kept once by their trigger_id in bot/inbox.py.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import ProcessedSlackEvent


def record_first(session: Session, key: str, now: datetime) -> bool:
    """Record `key` in the caller's transaction; False if it was recorded before."""
    try:
        with session.begin_nested():
            session.add(ProcessedSlackEvent(event_id=key, received_at=now))
    except IntegrityError:
        return False
    return True
