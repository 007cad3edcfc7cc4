"""Business-hour calendars: when SLA clocks count.

A calendar is a time zone, weekly opening hours (several intervals a day allowed) and holidays
(from the `holidays` package by country and subdivision, plus explicit dates and ranges).
Opening hours are local wall-clock times; they are turned into UTC instants day by day, so a
DST change simply makes that day's interval an hour shorter or longer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_data
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ALWAYS = "24x7"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {"weekdays": WEEKDAYS[:5], "weekend": WEEKDAYS[5:], "daily": WEEKDAYS}
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
# How far ahead `add` looks for opening hours before it calls a target unmeetable.
SEARCH_DAYS = 3 * 366

Interval = tuple[time, time | None]  # None as the end means midnight at the end of the day


class CalendarConfig(BaseModel):
    """One entry of `calendars:` in app.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str
    hours: dict[str, list[str]] = Field(default_factory=dict, validate_default=True)
    holidays: HolidayConfig | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
            ) from None
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        weekly = _weekly_hours(value)  # raises ValueError with the offending day
        if not any(weekly.values()):
            raise ValueError("no opening hours at all: no SLA target could ever be met")
        return value

    def weekly(self) -> dict[int, list[Interval]]:
        return _weekly_hours(self.hours)


class HolidayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = None
    subdivision: str | None = None
    dates: list[str] = Field(default_factory=list)

    @field_validator("dates", mode="before")
    @classmethod
    def _yaml_dates(cls, value: Any) -> Any:
        """YAML reads an unquoted 2026-12-24 as a date; take it as the text it was."""
        if isinstance(value, list):
            return [item.isoformat() if isinstance(item, date) else item for item in value]
        return value

    @model_validator(mode="after")
    def _known_country(self) -> HolidayConfig:
        if self.country:
            try:
                holiday_data.country_holidays(self.country, subdiv=self.subdivision, years=2026)
            except NotImplementedError:
                raise ValueError(
                    f"the holidays package knows no country {self.country!r}"
                    + (f" with subdivision {self.subdivision!r}" if self.subdivision else "")
                ) from None
        elif self.subdivision:
            raise ValueError("a subdivision needs a country")
        for entry in self.dates:
            _parse_date_range(entry)
        return self


def _weekly_hours(spec: dict[str, list[str]]) -> dict[int, list[Interval]]:
    weekly: dict[int, list[Interval]] = {day: [] for day in range(7)}
    for key, intervals in spec.items():
        days = _DAY_GROUPS.get(key.lower()) or ((key.lower(),) if key.lower() in WEEKDAYS else None)
        if days is None:
            raise ValueError(f"{key!r} is not a day (mon..sun, weekdays, weekend or daily)")
        parsed = [_parse_interval(key, text) for text in intervals]
        for day_name in days:
            weekly[WEEKDAYS.index(day_name)] += parsed
    for weekday, day_intervals in weekly.items():
        ordered = sorted(day_intervals, key=lambda interval: interval[0])
        for previous, current in itertools.pairwise(ordered):
            if previous[1] is None or current[0] < previous[1]:
                raise ValueError(
                    f"{WEEKDAYS[weekday]}: opening hours overlap "
                    f"({_show(previous)} and {_show(current)})"
                )
        weekly[weekday] = ordered
    return weekly


def _parse_interval(day: str, text: str) -> Interval:
    match = _INTERVAL.match(str(text).strip())
    if not match:
        raise ValueError(f"{day}: {text!r} is not an interval like 09:00-17:00")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ValueError(f"{day}: {text!r} is not a valid time range")
    start = time(start_h, start_m)
    end = None if end_h == 24 else time(end_h, end_m)
    if end is not None and end <= start:
        raise ValueError(f"{day}: {text!r} ends before it starts (overnight hours: split at 24:00)")
    return start, end


def _show(interval: Interval) -> str:
    end = interval[1].strftime("%H:%M") if interval[1] else "24:00"
    return f"{interval[0].strftime('%H:%M')}-{end}"


def _parse_date_range(entry: str) -> tuple[date, date]:
    first, _, last = str(entry).partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if last else start
    except ValueError:
        raise ValueError(
            f"holiday {entry!r} is not a date (YYYY-MM-DD) or range (YYYY-MM-DD..YYYY-MM-DD)"
        ) from None
    if end < start:
        raise ValueError(f"holiday range {entry!r} ends before it starts")
    return start, end


class BusinessCalendar:
    """Counts time only inside opening hours. All instants in and out are aware datetimes."""

    def __init__(self, name: str, config: CalendarConfig | None) -> None:
        self.name = name
        self.always_open = config is None
        self.zone = ZoneInfo(config.timezone) if config else ZoneInfo("UTC")
        self._weekly = config.weekly() if config else {}
        self._holiday_config = config.holidays if config else None
        self._extra_holidays = self._explicit_holidays()
        # Each day's opening hours, worked out once (the calendar never changes): replaying a
        # case's clocks asks for the same few days again and again.
        self._days: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    @classmethod
    def always(cls) -> BusinessCalendar:
        return cls(ALWAYS, None)

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Counted time between two instants (zero if `end` is not after `start`)."""
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        for open_at, close_at in self.open_intervals(start, end):
            total += close_at - open_at
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of counted time has passed since `start`."""
        amount = max(amount, timedelta(0))
        if self.always_open:
            return start + amount
        if not amount:
            return self.next_open(start)
        remaining = amount
        for open_at, close_at in self.open_intervals(start, start + timedelta(days=SEARCH_DAYS)):
            length = close_at - open_at
            if remaining <= length:
                return open_at + remaining
            remaining -= length
        raise ValueError(f"calendar {self.name!r} has no opening hours within {SEARCH_DAYS} days")

    def next_open(self, moment: datetime) -> datetime:
        """`moment` if the calendar is open then, else the next opening."""
        if self.always_open:
            return moment
        for open_at, _ in self.open_intervals(moment, moment + timedelta(days=SEARCH_DAYS)):
            return open_at
        raise ValueError(f"calendar {self.name!r} never opens")

    def is_open(self, moment: datetime) -> bool:
        return self.always_open or any(
            True for _ in self.open_intervals(moment, moment + timedelta(seconds=1))
        )

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals clipped to [start, end), in UTC, in order."""
        if self.always_open:
            if start < end:
                yield start.astimezone(UTC), end.astimezone(UTC)
            return
        day = start.astimezone(self.zone).date() - timedelta(
            days=1
        )  # an interval may start yesterday locally
        last_day = end.astimezone(self.zone).date()
        while day <= last_day:
            for open_at, close_at in self._day_intervals(day):
                clipped_start, clipped_end = max(open_at, start), min(close_at, end)
                if clipped_start < clipped_end:
                    yield clipped_start.astimezone(UTC), clipped_end.astimezone(UTC)
            day += timedelta(days=1)

    def is_holiday(self, day: date) -> bool:
        if day in self._extra_holidays:
            return True
        config = self._holiday_config
        if config is None or not config.country:
            return False
        return day in _country_holidays(config.country, config.subdivision, day.year)

    def _day_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        known = self._days.get(day)
        if known is None:
            if len(self._days) >= _DAYS_KEPT:
                self._days.clear()
            known = self._days[day] = tuple(self._opening_hours(day))
        return known

    def _opening_hours(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.is_holiday(day):
            return []
        intervals = []
        for open_time, close_time in self._weekly.get(day.weekday(), []):
            open_at = _local(day, open_time, self.zone)
            close_at = (
                _local(day + timedelta(days=1), time(0), self.zone)
                if close_time is None
                else _local(day, close_time, self.zone)
            )
            if open_at < close_at:
                intervals.append((open_at, close_at))
        return intervals

    def _explicit_holidays(self) -> frozenset[date]:
        days: set[date] = set()
        for entry in self._holiday_config.dates if self._holiday_config else []:
            first, last = _parse_date_range(entry)
            while first <= last:
                days.add(first)
                first += timedelta(days=1)
        return frozenset(days)


_DAYS_KEPT = 20_000  # days of opening hours a calendar keeps worked out (over 50 years)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant. In the spring-forward gap, the missing hour
    maps forward (02:30 becomes 03:30), which is what a clock on the wall would show."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=64)
def _country_holidays(country: str, subdivision: str | None, year: int) -> Any:
    return holiday_data.country_holidays(country, subdiv=subdivision, years=year)


CalendarConfig.model_rebuild()
