"""The periods figures are given for, as local days of a team's time zone: a summary's day or
ISO week, and the windows of `/case stats` (worded by bot/metrics/views.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAILY, WEEKLY = "daily", "weekly"


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: date  # local
    days: int
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.first_day + timedelta(days=self.days), self.zone)

    def shifted(self, periods: int) -> Period:
        return Period(
            self.kind, self.first_day + timedelta(days=self.days * periods), self.days, self.zone
        )


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of a local day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def days_before(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The same local time of day `days` days before `moment`, in UTC: a week that spans a
    change to or from summer time is still seven local days."""
    local = moment.astimezone(zone)
    earlier = datetime.combine(local.date() - timedelta(days=days), local.timetz())
    return earlier.replace(tzinfo=zone).astimezone(UTC)
