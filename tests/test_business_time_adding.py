"""Business calendars adding time: `add` finds when a business-time budget has passed, across
nights, weekends, holidays, time zones and DST, and is the inverse of `business_time`. Expected
instants are UTC, worked out by hand beside each (`sla_timers_helpers` has the DST dates)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sla_timers_helpers import Calendars, berlin, calendar, new_york, utc

from bot.sla.calendars import BusinessCalendar

# BusinessCalendar.add


@pytest.mark.parametrize(
    ("cal", "start", "amount", "due"),
    [
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 10),
            timedelta(hours=1),
            utc(2026, 11, 23, 10),  # Mon 11:00 CET
            id="within-the-same-opening",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 9),
            timedelta(hours=8),
            utc(2026, 11, 23, 16),  # Mon 17:00 CET: a full day ends at closing time, not later
            id="a-full-day-ends-at-closing-time",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 10),
            timedelta(hours=8),
            utc(2026, 11, 24, 9),  # Mon 10-17 (7 h) + Tue 09-10 = Tue 10:00 CET
            id="rolls-over-into-the-next-day",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 23, 18),
            timedelta(hours=1),
            utc(2026, 11, 24, 9),  # counting starts Tue 09:00 CET, due 10:00 CET
            id="an-evening-start-counts-from-the-next-opening",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 28, 12),
            timedelta(hours=1),
            utc(2026, 11, 30, 9),  # Saturday: counting starts Mon 09:00 CET, due 10:00 CET
            id="a-weekend-start-counts-from-monday",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 11, 27, 16, 30),
            timedelta(hours=1),
            utc(2026, 11, 30, 8, 30),  # Fri 16:30-17:00, Mon 09:00-09:30 CET
            id="a-friday-afternoon-carries-over-the-weekend",
        ),
        pytest.param(
            Calendars.LUNCH_BREAK,
            berlin(2026, 11, 23, 11, 30),
            timedelta(hours=1),
            utc(2026, 11, 23, 12, 30),  # 11:30-12:00, 13:00-13:30 CET
            id="skips-the-lunch-break",
        ),
        pytest.param(
            Calendars.GERMAN_EVERY_DAY,
            berlin(2026, 12, 24, 16),
            timedelta(hours=2),
            utc(2026, 12, 27, 9),  # Thu 24th 16-17; 25th and 26th holidays; Sun 27th 09-10 CET
            id="skips-german-christmas-day-and-boxing-day",
        ),
        pytest.param(
            calendar(holidays={"dates": ["2026-11-24"]}),
            berlin(2026, 11, 23, 16),
            timedelta(hours=2),
            utc(2026, 11, 25, 9),  # Mon 16-17; Tue closed; Wed 09-10 CET
            id="skips-an-explicit-holiday",
        ),
        pytest.param(
            calendar(holidays={"dates": ["2026-11-24..2026-11-26"]}),
            berlin(2026, 11, 23, 16),
            timedelta(hours=2),
            utc(2026, 11, 27, 9),  # Mon 16-17; Tue to Thu closed; Fri 09-10 CET
            id="skips-an-explicit-holiday-range",
        ),
        pytest.param(
            Calendars.BAVARIAN_OFFICE,
            berlin(2027, 1, 5, 16),
            timedelta(hours=2),
            utc(2027, 1, 7, 9),  # Epiphany (Wed 6th) is a holiday in Bavaria: Thu 10:00 CET
            id="skips-a-holiday-of-the-subdivision",
        ),
        pytest.param(
            Calendars.GERMAN_OFFICE,
            berlin(2027, 1, 5, 16),
            timedelta(hours=2),
            utc(2027, 1, 6, 9),  # Epiphany is a working day in Germany as a whole: Wed 10:00
            id="keeps-a-subdivision-holiday-for-the-whole-country-open",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 3, 27, 16),
            timedelta(hours=2),
            utc(2026, 3, 30, 8),  # Fri 16-17 CET; Mon 09-10 CEST = 07:00-08:00 UTC
            id="berlin-office-over-spring-forward",
        ),
        pytest.param(
            Calendars.OFFICE,
            berlin(2026, 10, 23, 16),
            timedelta(hours=2),
            utc(2026, 10, 26, 9),  # Fri 16-17 CEST; Mon 09-10 CET = 08:00-09:00 UTC
            id="berlin-office-over-fall-back",
        ),
        pytest.param(
            Calendars.NEW_YORK_OFFICE,
            new_york(2026, 3, 6, 16),
            timedelta(hours=2),
            utc(2026, 3, 9, 14),  # Fri 16-17 EST; Mon 09-10 EDT = 13:00-14:00 UTC
            id="new-york-office-over-spring-forward",
        ),
        pytest.param(
            Calendars.NEW_YORK_OFFICE,
            new_york(2026, 10, 30, 16),
            timedelta(hours=2),
            utc(2026, 11, 2, 15),  # Fri 16-17 EDT; Mon 09-10 EST = 14:00-15:00 UTC
            id="new-york-office-over-fall-back",
        ),
        pytest.param(
            Calendars.BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 3, 28, 23),
            timedelta(hours=4),
            utc(2026, 3, 29, 2),  # 22:00 UTC + 4 h; the wall clock shows 04:00 CEST
            id="berlin-24h-over-spring-forward-counts-real-hours",
        ),
        pytest.param(
            Calendars.BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 10, 24, 23),
            timedelta(hours=4),
            utc(2026, 10, 25, 1),  # 21:00 UTC + 4 h; the wall clock shows 02:00 CET
            id="berlin-24h-over-fall-back-counts-real-hours",
        ),
        pytest.param(
            Calendars.BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 10, 25, 0),
            timedelta(hours=24),
            utc(2026, 10, 25, 22),  # 22:00 UTC (24th) + 24 h: 23:00 CET, the long day not over
            id="berlin-24h-a-day-of-budget-ends-before-midnight-on-the-25h-day",
        ),
        pytest.param(
            Calendars.NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 3, 7, 23),
            timedelta(hours=4),
            utc(2026, 3, 8, 8),  # 04:00 UTC + 4 h; the wall clock shows 04:00 EDT
            id="new-york-24h-over-spring-forward-counts-real-hours",
        ),
        pytest.param(
            Calendars.NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 3, 8, 0),
            timedelta(hours=24),
            utc(2026, 3, 9, 5),  # 05:00 UTC + 24 h: Mon 01:00 EDT, past the 23 h day's end
            id="new-york-24h-a-day-of-budget-runs-past-midnight-on-the-23h-day",
        ),
        pytest.param(
            Calendars.NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 10, 31, 23),
            timedelta(hours=4),
            utc(2026, 11, 1, 7),  # 03:00 UTC + 4 h; the wall clock shows 02:00 EST
            id="new-york-24h-over-fall-back-counts-real-hours",
        ),
        pytest.param(
            Calendars.BERLIN_NIGHT_SHIFT,
            berlin(2026, 3, 29, 0),
            timedelta(hours=2, minutes=30),
            utc(2026, 3, 29, 23, 30),  # the 2 h shift of the 29th, then 30 min from 01:00 CEST
            id="a-night-shift-shortened-by-spring-forward",
        ),
        pytest.param(
            Calendars.ALWAYS_OPEN,
            utc(2026, 11, 28, 22),
            timedelta(hours=4),
            utc(2026, 11, 29, 2),
            id="24x7-is-plain-arithmetic",
        ),
    ],
)
def test_add_finds_when_the_business_time_has_passed(
    cal: BusinessCalendar, start: datetime, amount: timedelta, due: datetime
) -> None:
    assert cal.add(start, amount) == due


def test_add_is_the_inverse_of_business_time() -> None:
    office = Calendars.GERMAN_OFFICE
    start = berlin(2026, 12, 23, 15, 20)
    for minutes in (1, 59, 100, 480, 3000):
        amount = timedelta(minutes=minutes)
        assert office.business_time(start, office.add(start, amount)) == amount
