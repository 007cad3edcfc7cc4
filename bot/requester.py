"""Who acted, where, and how: what a flow needs to record a change and to answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.cases.changes import Actor
from models import EventSource


def slack_moment(ts: object) -> datetime | None:
    """The moment a Slack timestamp ("1700000000.000100") names; None if it names none."""
    try:
        seconds = float(ts) if isinstance(ts, str) else None
    except ValueError:
        return None
    if seconds is None or not 0 < seconds < 32503680000:  # before the year 3000
        return None
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class Requester:
    user_id: str
    channel_id: str | None  # where to answer them (None: in a DM)
    source: EventSource
    # The Slack request this person made (bot/inbox.py): a change it causes marks it done in
    # the same transaction, so it is never carried out twice.
    request_key: str | None = None
    # The Slack event this person's action came as (a reaction): recorded with the change it
    # causes, so Slack delivering it again changes nothing.
    event_key: str | None = None
    at: datetime | None = None  # Slack's time of the action, where it gave one

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.source, self.at)
