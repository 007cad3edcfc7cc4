"""Business calendars counting time: `business_time` counts only opening hours (breaks, holidays,
time zones and DST included), and `next_open` is the moment counting starts. Expected instants are
UTC, worked out by hand beside each (`sla_timers_helpers` has the DST dates)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sla_timers_helpers import Calendars, berlin, calendar, new_york, utc

from bot.sla.calendars import BusinessCalendar

# BusinessCalendar.business_time


@pytest.mark.parametrize(
    ("cal", "start", "end", "counted"),
    [
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 10),
            berlin(2026, 11, 23, 12),
            timedelta(hours=2),
            id="inside-one-opening-counts-everything",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 16),
            berlin(2026, 11, 24, 10),
            timedelta(hours=2),  # Mon 16-17, Tue 09-10
            id="the-night-counts-nothing",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 27, 16),
            berlin(2026, 11, 30, 10),
            timedelta(hours=2),  # Fri 16-17, Mon 09-10
            id="the-weekend-counts-nothing",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 28, 8),
            berlin(2026, 11, 29, 20),
            timedelta(0),
            id="a-weekend-alone-counts-zero",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 0),
            berlin(2026, 11, 30, 0),
            timedelta(hours=40),
            id="a-week-is-five-eight-hour-days",
        ),
        pytest.param(
            Calendars.LUNCH_BREAK,
            berlin(2026, 11, 23, 11),
            berlin(2026, 11, 23, 14),
            timedelta(hours=2),  # 11-12 and 13-14
            id="the-lunch-break-counts-nothing",
        ),
        pytest.param(
            Calendars.GERMAN_OFFICE,
            berlin(2026, 12, 24, 10),
            berlin(2026, 12, 28, 10),
            timedelta(hours=8),  # Thu 24th 10-17 (7 h); Fri 25th a holiday; Mon 28th 09-10
            id="christmas-day-counts-nothing",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 12),
            berlin(2026, 11, 23, 10),
            timedelta(0),
            id="an-end-before-the-start-counts-zero",
        ),
        pytest.param(
            Calendars.ALWAYS_OPEN,
            utc(2026, 11, 28, 22),
            utc(2026, 11, 30, 1),
            timedelta(hours=27),
            id="24x7-counts-nights-and-weekends",
        ),
        pytest.param(
            Calendars.BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 3, 28, 12),
            berlin(2026, 3, 29, 12),
            timedelta(hours=23),  # 11:00 UTC to 10:00 UTC: the spring-forward day is short
            id="berlin-24h-noon-to-noon-over-spring-forward-is-23h",
        ),
        pytest.param(
            Calendars.BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 10, 24, 12),
            berlin(2026, 10, 25, 12),
            timedelta(hours=25),  # 10:00 UTC to 11:00 UTC: the fall-back day is long
            id="berlin-24h-noon-to-noon-over-fall-back-is-25h",
        ),
        pytest.param(
            Calendars.NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 3, 7, 12),
            new_york(2026, 3, 8, 12),
            timedelta(hours=23),  # 17:00 UTC to 16:00 UTC
            id="new-york-24h-noon-to-noon-over-spring-forward-is-23h",
        ),
        pytest.param(
            Calendars.NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 10, 31, 12),
            new_york(2026, 11, 1, 12),
            timedelta(hours=25),  # 16:00 UTC to 17:00 UTC
            id="new-york-24h-noon-to-noon-over-fall-back-is-25h",
        ),
        pytest.param(
            Calendars.BERLIN_NIGHT_SHIFT,
            berlin(2026, 3, 29, 0),
            berlin(2026, 3, 30, 0),
            timedelta(hours=2),  # 01:00 CET = 00:00 UTC to 04:00 CEST = 02:00 UTC
            id="a-night-shift-across-spring-forward-is-an-hour-shorter",
        ),
        pytest.param(
            Calendars.BERLIN_NIGHT_SHIFT,
            berlin(2026, 10, 25, 0),
            berlin(2026, 10, 26, 0),
            timedelta(hours=4),  # 01:00 CEST = 23:00 UTC (24th) to 04:00 CET = 03:00 UTC
            id="a-night-shift-across-fall-back-is-an-hour-longer",
        ),
    ],
)
def test_business_time_counts_only_opening_hours(
    cal: BusinessCalendar, start: datetime, end: datetime, counted: timedelta
) -> None:
    assert cal.business_time(start, end) == counted


# BusinessCalendar.next_open


@pytest.mark.parametrize(
    ("cal", "moment", "opening"),
    [
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 10),
            utc(2026, 11, 23, 9),
            id="while-open-it-is-now",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 8, 59),
            utc(2026, 11, 23, 8),  # 09:00 CET
            id="before-opening-it-is-the-opening",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 17),
            utc(2026, 11, 24, 8),  # Tue 09:00 CET
            id="at-closing-time-it-is-tomorrow",
        ),
        pytest.param(
            Calendars.LUNCH_BREAK,
            berlin(2026, 11, 23, 12, 30),
            utc(2026, 11, 23, 12),  # 13:00 CET
            id="in-the-lunch-break-it-is-after-lunch",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 28, 12),
            utc(2026, 11, 30, 8),  # Mon 09:00 CET
            id="on-saturday-it-is-monday",
        ),
        pytest.param(
            Calendars.GERMAN_OFFICE,
            berlin(2026, 12, 24, 17, 30),
            utc(2026, 12, 28, 8),  # Fri 25th a holiday, then the weekend: Mon 09:00 CET
            id="on-christmas-eve-evening-it-is-after-christmas",
        ),
        pytest.param(
            calendar({"daily": ["02:30-05:00"]}),
            berlin(2026, 3, 29, 0),
            utc(2026, 3, 29, 1, 30),  # 02:30 does not exist that night; the wall shows 03:30 CEST
            id="an-opening-in-the-spring-forward-gap-moves-forward",
        ),
        pytest.param(
            Calendars.ALWAYS_OPEN,
            utc(2026, 11, 29, 3, 17),
            utc(2026, 11, 29, 3, 17),
            id="24x7-is-always-now",
        ),
    ],
)
def test_next_open_is_the_moment_counting_starts(
    cal: BusinessCalendar, moment: datetime, opening: datetime
) -> None:
    assert cal.next_open(moment) == opening
