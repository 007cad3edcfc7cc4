"""Who acted, where, and how: what a flow needs to record a change and to answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.changes import Actor
from models import EventSource


@dataclass(frozen=True)
class Requester:
    user_id: str
    channel_id: str | None  # where to answer them (None: in a DM)
    source: EventSource
    # The Slack request this person made (bot/inbox.py): a change it causes marks it done in
    # the same transaction, so it is never carried out twice.
    request_key: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.source)
