"""What routing will not do, as data (worded in bot/routing/views.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.refusals import BadInput, NotAllowed


@dataclass
class UnknownAwayTime(BadInput):
    """`/case away until 25:00`, `/case away for ever`: not a time of day nor a duration."""

    typed: str


@dataclass
class NotAnAgent(NotAllowed):
    """Only agents take cases, so only they can be away."""

    user_id: str
