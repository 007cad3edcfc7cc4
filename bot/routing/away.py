"""`/case away [until <time>|for <duration>]` read as data: when the agent is back. Pure
functions (the time zone is the agent's own, given by the caller)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.routing.refusals import UnknownAwayTime
from bot.sla.policies import parse_duration

_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class AwayFor:
    """Away until a time of day (the next one to come), for a while, or until back."""

    until: time | None = None
    length: timedelta | None = None

    def ends(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """When the agent is back by itself; None: when they say so."""
        if self.length is not None:
            return now + self.length
        if self.until is None:
            return None
        local = now.astimezone(zone)
        end = datetime.combine(local.date(), self.until, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.until, tzinfo=zone)
        return end


def read_away(text: str) -> AwayFor:
    """`` (until back), `until 14:00`, `until 9`, `for 2h`, `for 1h30m`."""
    words = text.strip().split(None, 1)
    if not words:
        return AwayFor()
    if len(words) == 2 and words[0].lower() == "until":
        match = _CLOCK.match(words[1].strip())
        hours, minutes = (int(match.group(1)), int(match.group(2) or 0)) if match else (99, 0)
        if hours > 23 or minutes > 59:
            raise UnknownAwayTime(text.strip())
        return AwayFor(until=time(hours, minutes))
    if len(words) == 2 and words[0].lower() == "for":
        try:
            return AwayFor(length=parse_duration(words[1]))
        except ValueError:
            raise UnknownAwayTime(text.strip()) from None
    raise UnknownAwayTime(text.strip())
