"""SLA clocks without a database: business calendars (opening hours, holidays, DST), the timers
replayed from a case's history, durations, and the checks `check-config` runs on calendars.

Every expected instant is UTC and was worked out by hand; the comment next to it shows how.
Berlin is UTC+1 in winter (CET) and UTC+2 in summer (CEST); New York is UTC-5 (EST) and UTC-4
(EDT). In 2026 Berlin springs forward on 29 March and falls back on 25 October, New York on
8 March and 1 November. 2026-11-23 is a Monday.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import AGENT, DESK_YAML, REQUESTER

from bot.desk import ConfigError, parse_desk_config
from bot.sla.calendars import BusinessCalendar, CalendarConfig
from bot.sla.policies import (
    FIRST_RESPONSE,
    RESOLUTION,
    ClockStep,
    SlaConfig,
    SlaPolicies,
    SlaPolicy,
    Timer,
    compute_timers,
    parse_duration,
)
from models import Case, CaseAction, CaseEvent, CaseStatus

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE_HOURS = {"weekdays": ["09:00-17:00"]}
LUNCH_BREAK_HOURS = {"weekdays": ["09:00-12:00", "13:00-17:00"]}
EVERY_DAY_HOURS = {"daily": ["09:00-17:00"]}
ROUND_THE_CLOCK_HOURS = {"daily": ["00:00-24:00"]}
NIGHT_SHIFT_HOURS = {"daily": ["01:00-04:00"]}  # spans the DST change in Berlin


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def new_york(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def calendar_config(
    hours: dict[str, list[str]] | None = None,
    *,
    timezone: str = "Europe/Berlin",
    holidays: dict[str, Any] | None = None,
) -> CalendarConfig:
    spec: dict[str, Any] = {"timezone": timezone, "hours": hours or OFFICE_HOURS}
    if holidays is not None:
        spec["holidays"] = holidays
    return CalendarConfig.model_validate(spec)


def calendar(
    hours: dict[str, list[str]] | None = None,
    *,
    timezone: str = "Europe/Berlin",
    holidays: dict[str, Any] | None = None,
) -> BusinessCalendar:
    return BusinessCalendar("test", calendar_config(hours, timezone=timezone, holidays=holidays))


OFFICE = calendar()
LUNCH_BREAK = calendar(LUNCH_BREAK_HOURS)
GERMAN_OFFICE = calendar(holidays={"country": "DE"})
GERMAN_EVERY_DAY = calendar(EVERY_DAY_HOURS, holidays={"country": "DE"})
BAVARIAN_OFFICE = calendar(holidays={"country": "DE", "subdivision": "BY"})
BERLIN_ROUND_THE_CLOCK = calendar(ROUND_THE_CLOCK_HOURS)
BERLIN_NIGHT_SHIFT = calendar(NIGHT_SHIFT_HOURS)
NEW_YORK_OFFICE = calendar(timezone="America/New_York")
NEW_YORK_ROUND_THE_CLOCK = calendar(ROUND_THE_CLOCK_HOURS, timezone="America/New_York")
ALWAYS_OPEN = BusinessCalendar.always()

# Monday 2026-11-23, 10:00 in Berlin.
T0 = utc(2026, 11, 23, 9)


def policies(teams_spec: dict[str, Any]) -> SlaPolicies:
    """The SLA policies of a desk whose `support` team has `teams_spec`, with the office."""
    config = SlaConfig.model_validate({"teams": {"support": teams_spec}})
    return SlaPolicies(config, {"office": calendar_config()})


def policy(teams_spec: dict[str, Any], priority: str = "p3") -> SlaPolicy:
    """The `support` team's policy for `priority`, resolved the way the app resolves it."""
    found = policies(teams_spec).policy("support", priority)
    assert found is not None, f"no policy for {priority} in {teams_spec}"
    return found


OFFICE_POLICY = policy(
    {"default": {"first_response": "1h", "resolution": "8h", "calendar": "office"}}
)
ROUND_THE_CLOCK_POLICY = policy({"default": {"first_response": "1h", "resolution": "4h"}})


def case_opened_at(opened_at: datetime, priority: str = "p3") -> Case:
    return Case(
        id=1,
        title="Printer on fire",
        team_key="support",
        priority=priority,
        status=CaseStatus.OPEN,
        requester_id=REQUESTER,
        opened_at=opened_at,
        last_activity_at=opened_at,
    )


Step = tuple[datetime, CaseAction, CaseStatus | None]


def history(case: Case, *steps: Step) -> list[CaseEvent]:
    """The case's audit trail: its opening, then each (at, action, status after) step."""
    ids = itertools.count(1)
    opened = CaseEvent(
        id=next(ids),
        case_id=case.id,
        at=case.opened_at,
        actor_id=case.requester_id,
        action=CaseAction.OPENED,
        status_after=None,
    )
    return [opened] + [
        CaseEvent(
            id=next(ids),
            case_id=case.id,
            at=at,
            actor_id=AGENT,
            action=action,
            status_after=status.value if status else None,
        )
        for at, action, status in steps
    ]


def timers_at(now: datetime, sla: SlaPolicy, opened_at: datetime, *steps: Step) -> dict[str, Timer]:
    case = case_opened_at(opened_at)
    return compute_timers(case, history(case, *steps), sla, now)


TWO_PRIORITIES = {
    "default": {"first_response": "4h", "resolution": "2d", "calendar": "office"},
    "p1": {"first_response": "15m", "resolution": "4h", "warn_at": 0.5, "calendar": "24x7"},
}


def config_problems(extra_yaml: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_desk_config(DESK_YAML + extra_yaml, source="app.yaml")
    return raised.value.problems


def with_calendar(office_yaml: str) -> str:
    return (
        "calendars:\n  office:\n"
        + "".join(f"    {line}\n" for line in office_yaml.strip().splitlines())
        + "sla:\n  teams:\n    support:\n      default: {first_response: 1h, calendar: office}\n"
    )


def office_policies(office_yaml: str) -> SlaPolicies:
    """The SLA policies of the test desk with `office_yaml` as its office calendar."""
    desk = parse_desk_config(DESK_YAML + with_calendar(office_yaml))
    return SlaPolicies(desk.sla, desk.calendars)


NO_HOURS = "calendars.office.hours: no opening hours at all: no SLA target could ever be met"


CLAIMED = CaseAction.CLAIMED
RESPONDED = CaseAction.RESPONDED
PENDING = CaseAction.PENDING
RESUMED = CaseAction.RESUMED
CLOSED = CaseAction.CLOSED
REOPENED = CaseAction.REOPENED
IN_PROGRESS = CaseStatus.IN_PROGRESS
PENDING_AFTER_20_MIN: Step = (T0 + timedelta(minutes=20), PENDING, CaseStatus.PENDING)


def claimed_case_timers(
    now: datetime, *steps: Step, sla: SlaPolicy = ROUND_THE_CLOCK_POLICY
) -> dict[str, Timer]:
    """The timers at `now` of a case opened and claimed at T0, then `steps` (24x7 unless `sla`
    says otherwise)."""
    return timers_at(now, sla, T0, (T0, CLAIMED, IN_PROGRESS), *steps)


# BusinessCalendar.business_time


@pytest.mark.parametrize(
    ("cal", "start", "end", "counted"),
    [
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 10),
            berlin(2026, 11, 23, 12),
            timedelta(hours=2),
            id="inside-one-opening-counts-everything",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 16),
            berlin(2026, 11, 24, 10),
            timedelta(hours=2),  # Mon 16-17, Tue 09-10
            id="the-night-counts-nothing",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 27, 16),
            berlin(2026, 11, 30, 10),
            timedelta(hours=2),  # Fri 16-17, Mon 09-10
            id="the-weekend-counts-nothing",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 28, 8),
            berlin(2026, 11, 29, 20),
            timedelta(0),
            id="a-weekend-alone-counts-zero",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 0),
            berlin(2026, 11, 30, 0),
            timedelta(hours=40),
            id="a-week-is-five-eight-hour-days",
        ),
        pytest.param(
            LUNCH_BREAK,
            berlin(2026, 11, 23, 11),
            berlin(2026, 11, 23, 14),
            timedelta(hours=2),  # 11-12 and 13-14
            id="the-lunch-break-counts-nothing",
        ),
        pytest.param(
            GERMAN_OFFICE,
            berlin(2026, 12, 24, 10),
            berlin(2026, 12, 28, 10),
            timedelta(hours=8),  # Thu 24th 10-17 (7 h); Fri 25th a holiday; Mon 28th 09-10
            id="christmas-day-counts-nothing",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 12),
            berlin(2026, 11, 23, 10),
            timedelta(0),
            id="an-end-before-the-start-counts-zero",
        ),
        pytest.param(
            ALWAYS_OPEN,
            utc(2026, 11, 28, 22),
            utc(2026, 11, 30, 1),
            timedelta(hours=27),
            id="24x7-counts-nights-and-weekends",
        ),
        pytest.param(
            BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 3, 28, 12),
            berlin(2026, 3, 29, 12),
            timedelta(hours=23),  # 11:00 UTC to 10:00 UTC: the spring-forward day is short
            id="berlin-24h-noon-to-noon-over-spring-forward-is-23h",
        ),
        pytest.param(
            BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 10, 24, 12),
            berlin(2026, 10, 25, 12),
            timedelta(hours=25),  # 10:00 UTC to 11:00 UTC: the fall-back day is long
            id="berlin-24h-noon-to-noon-over-fall-back-is-25h",
        ),
        pytest.param(
            NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 3, 7, 12),
            new_york(2026, 3, 8, 12),
            timedelta(hours=23),  # 17:00 UTC to 16:00 UTC
            id="new-york-24h-noon-to-noon-over-spring-forward-is-23h",
        ),
        pytest.param(
            NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 10, 31, 12),
            new_york(2026, 11, 1, 12),
            timedelta(hours=25),  # 16:00 UTC to 17:00 UTC
            id="new-york-24h-noon-to-noon-over-fall-back-is-25h",
        ),
        pytest.param(
            BERLIN_NIGHT_SHIFT,
            berlin(2026, 3, 29, 0),
            berlin(2026, 3, 30, 0),
            timedelta(hours=2),  # 01:00 CET = 00:00 UTC to 04:00 CEST = 02:00 UTC
            id="a-night-shift-across-spring-forward-is-an-hour-shorter",
        ),
        pytest.param(
            BERLIN_NIGHT_SHIFT,
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


# BusinessCalendar.add


@pytest.mark.parametrize(
    ("cal", "start", "amount", "due"),
    [
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 10),
            timedelta(hours=1),
            utc(2026, 11, 23, 10),  # Mon 11:00 CET
            id="within-the-same-opening",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 9),
            timedelta(hours=8),
            utc(2026, 11, 23, 16),  # Mon 17:00 CET: a full day ends at closing time, not later
            id="a-full-day-ends-at-closing-time",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 10),
            timedelta(hours=8),
            utc(2026, 11, 24, 9),  # Mon 10-17 (7 h) + Tue 09-10 = Tue 10:00 CET
            id="rolls-over-into-the-next-day",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 18),
            timedelta(hours=1),
            utc(2026, 11, 24, 9),  # counting starts Tue 09:00 CET, due 10:00 CET
            id="an-evening-start-counts-from-the-next-opening",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 28, 12),
            timedelta(hours=1),
            utc(2026, 11, 30, 9),  # Saturday: counting starts Mon 09:00 CET, due 10:00 CET
            id="a-weekend-start-counts-from-monday",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 27, 16, 30),
            timedelta(hours=1),
            utc(2026, 11, 30, 8, 30),  # Fri 16:30-17:00, Mon 09:00-09:30 CET
            id="a-friday-afternoon-carries-over-the-weekend",
        ),
        pytest.param(
            LUNCH_BREAK,
            berlin(2026, 11, 23, 11, 30),
            timedelta(hours=1),
            utc(2026, 11, 23, 12, 30),  # 11:30-12:00, 13:00-13:30 CET
            id="skips-the-lunch-break",
        ),
        pytest.param(
            GERMAN_EVERY_DAY,
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
            BAVARIAN_OFFICE,
            berlin(2027, 1, 5, 16),
            timedelta(hours=2),
            utc(2027, 1, 7, 9),  # Epiphany (Wed 6th) is a holiday in Bavaria: Thu 10:00 CET
            id="skips-a-holiday-of-the-subdivision",
        ),
        pytest.param(
            GERMAN_OFFICE,
            berlin(2027, 1, 5, 16),
            timedelta(hours=2),
            utc(2027, 1, 6, 9),  # Epiphany is a working day in Germany as a whole: Wed 10:00
            id="keeps-a-subdivision-holiday-for-the-whole-country-open",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 3, 27, 16),
            timedelta(hours=2),
            utc(2026, 3, 30, 8),  # Fri 16-17 CET; Mon 09-10 CEST = 07:00-08:00 UTC
            id="berlin-office-over-spring-forward",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 10, 23, 16),
            timedelta(hours=2),
            utc(2026, 10, 26, 9),  # Fri 16-17 CEST; Mon 09-10 CET = 08:00-09:00 UTC
            id="berlin-office-over-fall-back",
        ),
        pytest.param(
            NEW_YORK_OFFICE,
            new_york(2026, 3, 6, 16),
            timedelta(hours=2),
            utc(2026, 3, 9, 14),  # Fri 16-17 EST; Mon 09-10 EDT = 13:00-14:00 UTC
            id="new-york-office-over-spring-forward",
        ),
        pytest.param(
            NEW_YORK_OFFICE,
            new_york(2026, 10, 30, 16),
            timedelta(hours=2),
            utc(2026, 11, 2, 15),  # Fri 16-17 EDT; Mon 09-10 EST = 14:00-15:00 UTC
            id="new-york-office-over-fall-back",
        ),
        pytest.param(
            BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 3, 28, 23),
            timedelta(hours=4),
            utc(2026, 3, 29, 2),  # 22:00 UTC + 4 h; the wall clock shows 04:00 CEST
            id="berlin-24h-over-spring-forward-counts-real-hours",
        ),
        pytest.param(
            BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 10, 24, 23),
            timedelta(hours=4),
            utc(2026, 10, 25, 1),  # 21:00 UTC + 4 h; the wall clock shows 02:00 CET
            id="berlin-24h-over-fall-back-counts-real-hours",
        ),
        pytest.param(
            BERLIN_ROUND_THE_CLOCK,
            berlin(2026, 10, 25, 0),
            timedelta(hours=24),
            utc(2026, 10, 25, 22),  # 22:00 UTC (24th) + 24 h: 23:00 CET, the long day not over
            id="berlin-24h-a-day-of-budget-ends-before-midnight-on-the-25h-day",
        ),
        pytest.param(
            NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 3, 7, 23),
            timedelta(hours=4),
            utc(2026, 3, 8, 8),  # 04:00 UTC + 4 h; the wall clock shows 04:00 EDT
            id="new-york-24h-over-spring-forward-counts-real-hours",
        ),
        pytest.param(
            NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 3, 8, 0),
            timedelta(hours=24),
            utc(2026, 3, 9, 5),  # 05:00 UTC + 24 h: Mon 01:00 EDT, past the 23 h day's end
            id="new-york-24h-a-day-of-budget-runs-past-midnight-on-the-23h-day",
        ),
        pytest.param(
            NEW_YORK_ROUND_THE_CLOCK,
            new_york(2026, 10, 31, 23),
            timedelta(hours=4),
            utc(2026, 11, 1, 7),  # 03:00 UTC + 4 h; the wall clock shows 02:00 EST
            id="new-york-24h-over-fall-back-counts-real-hours",
        ),
        pytest.param(
            BERLIN_NIGHT_SHIFT,
            berlin(2026, 3, 29, 0),
            timedelta(hours=2, minutes=30),
            utc(2026, 3, 29, 23, 30),  # the 2 h shift of the 29th, then 30 min from 01:00 CEST
            id="a-night-shift-shortened-by-spring-forward",
        ),
        pytest.param(
            ALWAYS_OPEN,
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
    start = berlin(2026, 12, 23, 15, 20)
    for minutes in (1, 59, 100, 480, 3000):
        amount = timedelta(minutes=minutes)
        assert GERMAN_OFFICE.business_time(start, GERMAN_OFFICE.add(start, amount)) == amount


# BusinessCalendar.next_open


@pytest.mark.parametrize(
    ("cal", "moment", "opening"),
    [
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 10),
            utc(2026, 11, 23, 9),
            id="while-open-it-is-now",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 8, 59),
            utc(2026, 11, 23, 8),  # 09:00 CET
            id="before-opening-it-is-the-opening",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 23, 17),
            utc(2026, 11, 24, 8),  # Tue 09:00 CET
            id="at-closing-time-it-is-tomorrow",
        ),
        pytest.param(
            LUNCH_BREAK,
            berlin(2026, 11, 23, 12, 30),
            utc(2026, 11, 23, 12),  # 13:00 CET
            id="in-the-lunch-break-it-is-after-lunch",
        ),
        pytest.param(
            OFFICE,
            berlin(2026, 11, 28, 12),
            utc(2026, 11, 30, 8),  # Mon 09:00 CET
            id="on-saturday-it-is-monday",
        ),
        pytest.param(
            GERMAN_OFFICE,
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
            ALWAYS_OPEN,
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


# compute_timers: when the clocks start, and the due and warning points


@pytest.mark.parametrize(
    ("opened_at", "first_response_due", "first_response_warn", "resolution_due"),
    [
        pytest.param(
            berlin(2026, 11, 23, 10),
            utc(2026, 11, 23, 10),  # Mon 11:00 CET
            utc(2026, 11, 23, 9, 45),  # 75 % of 1 h
            utc(2026, 11, 24, 9),  # Mon 10-17 (7 h) + Tue 09-10 CET
            id="opened-in-business-hours",
        ),
        pytest.param(
            berlin(2026, 11, 23, 18, 30),
            utc(2026, 11, 24, 9),  # counting starts Tue 09:00 CET
            utc(2026, 11, 24, 8, 45),
            utc(2026, 11, 24, 16),  # Tue 09-17 CET
            id="opened-in-the-evening-starts-at-the-next-opening",
        ),
        pytest.param(
            berlin(2026, 11, 28, 11),
            utc(2026, 11, 30, 9),  # Saturday: counting starts Mon 09:00 CET
            utc(2026, 11, 30, 8, 45),
            utc(2026, 11, 30, 16),
            id="opened-on-a-weekend-starts-on-monday",
        ),
        pytest.param(
            berlin(2026, 11, 27, 16, 30),
            utc(2026, 11, 30, 8, 30),  # Fri 16:30-17:00, Mon 09:00-09:30 CET
            utc(2026, 11, 30, 8, 15),  # 45 min: Fri 30 min, Mon 15 min
            utc(2026, 11, 30, 15, 30),  # Fri 30 min, Mon 09:00-16:30 CET (7 h 30 min)
            id="opened-on-friday-afternoon-carries-over-the-weekend",
        ),
        pytest.param(
            berlin(2026, 3, 27, 16, 30),
            utc(2026, 3, 30, 7, 30),  # Fri 16:30-17:00 CET, Mon 09:00-09:30 CEST
            utc(2026, 3, 30, 7, 15),
            utc(2026, 3, 30, 14, 30),  # Fri 30 min, Mon 09:00-16:30 CEST (7 h 30 min)
            id="opened-before-the-spring-forward-weekend",
        ),
    ],
)
def test_clocks_of_a_new_case_count_business_time_from_its_opening(
    opened_at: datetime,
    first_response_due: datetime,
    first_response_warn: datetime,
    resolution_due: datetime,
) -> None:
    timers = timers_at(opened_at, OFFICE_POLICY, opened_at)

    first, resolution = timers[FIRST_RESPONSE], timers[RESOLUTION]
    assert (first.due_at, first.warn_at) == (first_response_due, first_response_warn)
    assert resolution.due_at == resolution_due
    assert first.running
    assert resolution.running


@pytest.mark.parametrize(
    ("warn_at", "warning"),
    [
        pytest.param(0.5, T0 + timedelta(minutes=30), id="half-way"),
        pytest.param(0.9, T0 + timedelta(minutes=54), id="at-90-percent"),
        pytest.param(None, T0 + timedelta(minutes=45), id="at-75-percent-by-default"),
    ],
)
def test_the_warning_point_is_warn_at_of_the_budget(
    warn_at: float | None, warning: datetime
) -> None:
    spec: dict[str, Any] = {"first_response": "1h"}
    if warn_at is not None:
        spec["warn_at"] = warn_at

    timers = timers_at(T0, policy({"default": spec}), T0)

    assert timers[FIRST_RESPONSE].warn_at == warning
    assert timers[FIRST_RESPONSE].due_at == T0 + timedelta(hours=1)


def test_a_warning_point_after_closing_time_falls_on_the_next_business_day() -> None:
    # Opened Mon 16:30 CET with 1 h: 30 min today; the warning (45 min) and the due time fall
    # on Tuesday morning, not at 17:15 or 17:30 on Monday.
    timers = timers_at(T0, OFFICE_POLICY, berlin(2026, 11, 23, 16, 30))

    first = timers[FIRST_RESPONSE]
    assert first.warn_at == utc(2026, 11, 24, 8, 15)  # Tue 09:15 CET
    assert first.due_at == utc(2026, 11, 24, 8, 30)  # Tue 09:30 CET


def test_a_case_without_a_resolution_target_has_only_a_first_response_clock() -> None:
    timers = timers_at(T0, policy({"default": {"first_response": "30m"}}), T0)

    assert set(timers) == {FIRST_RESPONSE}


def test_24x7_counts_straight_through_saturday_night() -> None:
    opened = utc(2026, 11, 28, 22)

    timers = timers_at(opened, ROUND_THE_CLOCK_POLICY, opened)

    assert timers[FIRST_RESPONSE].due_at == utc(2026, 11, 28, 23)
    assert timers[RESOLUTION].due_at == utc(2026, 11, 29, 2)


# compute_timers: pauses, resumes, reopens, closes


def test_pending_pauses_resolution_but_not_first_response() -> None:
    timers = claimed_case_timers(T0 + timedelta(hours=2), PENDING_AFTER_20_MIN)

    first, resolution = timers[FIRST_RESPONSE], timers[RESOLUTION]
    assert first.running
    assert first.due_at == T0 + timedelta(hours=1)
    assert first.used == timedelta(hours=2)
    assert not resolution.running
    assert resolution.due_at is None
    assert resolution.used == timedelta(minutes=20)
    assert resolution.left == timedelta(hours=3, minutes=40)
    assert [(step.kind, step.cause) for step in resolution.steps] == [
        ("start", "case opened"),
        ("pause", "waiting on the requester"),
    ]


def test_resume_continues_from_the_remaining_budget() -> None:
    resumed = T0 + timedelta(hours=2)

    timers = claimed_case_timers(resumed, PENDING_AFTER_20_MIN, (resumed, RESUMED, IN_PROGRESS))

    resolution = timers[RESOLUTION]
    assert resolution.running
    assert resolution.used == timedelta(minutes=20)
    # 4 h budget, 20 min used before the pause: 3 h 40 min from the resume.
    assert resolution.due_at == resumed + timedelta(hours=3, minutes=40)
    # The warning at 3 h of use: 2 h 40 min after the resume.
    assert resolution.warn_at == resumed + timedelta(hours=2, minutes=40)
    assert [step.kind for step in resolution.steps] == ["start", "pause", "resume"]
    assert resolution.steps[-1].cause == "back in progress"


def test_a_pause_over_business_hours_moves_the_due_time_by_the_paused_business_time() -> None:
    # Office calendar, 8 h resolution. Opened Mon 10:00 CET, pending 11:00-15:00 CET, so 1 h
    # used; 7 h left from Mon 15:00 CET: Mon 15-17 (2 h) and Tue 09-14 (5 h).
    timers = claimed_case_timers(
        berlin(2026, 11, 23, 15),
        (berlin(2026, 11, 23, 11), PENDING, CaseStatus.PENDING),
        (berlin(2026, 11, 23, 15), RESUMED, IN_PROGRESS),
        sla=OFFICE_POLICY,
    )

    assert timers[RESOLUTION].due_at == utc(2026, 11, 24, 13)  # Tue 14:00 CET


def test_reopen_restarts_resolution_from_the_remaining_budget_not_from_zero() -> None:
    reopened = T0 + timedelta(hours=3)

    timers = claimed_case_timers(
        reopened,
        (T0 + timedelta(minutes=5), RESPONDED, None),
        (T0 + timedelta(hours=1), CLOSED, CaseStatus.CLOSED),
        (reopened, REOPENED, IN_PROGRESS),
    )

    resolution = timers[RESOLUTION]
    assert resolution.running
    assert resolution.used == timedelta(hours=1)
    assert resolution.due_at == reopened + timedelta(hours=3)  # not reopened + 4 h
    assert resolution.met_at is None
    assert resolution.steps[-1] == ClockStep(reopened, "resume", "case reopened (remaining budget)")
    # The first response was given before the close; a reopen does not ask for another.
    first = timers[FIRST_RESPONSE]
    assert not first.running
    assert first.met_at == T0 + timedelta(minutes=5)


def test_a_closed_case_has_no_running_timer() -> None:
    closed = T0 + timedelta(hours=1)

    timers = claimed_case_timers(
        T0 + timedelta(hours=5),
        (T0 + timedelta(minutes=5), RESPONDED, None),
        (closed, CLOSED, CaseStatus.CLOSED),
    )

    first, resolution = timers[FIRST_RESPONSE], timers[RESOLUTION]
    assert not first.running
    assert not resolution.running
    assert first.met_at == T0 + timedelta(minutes=5)
    assert resolution.met_at == closed
    assert resolution.used == timedelta(hours=1)
    assert (resolution.steps[-1].kind, resolution.steps[-1].cause) == ("stop", "case closed")


def test_a_case_closed_while_pending_has_its_resolution_clock_stopped_at_the_close() -> None:
    closed = T0 + timedelta(hours=2)

    timers = claimed_case_timers(
        T0 + timedelta(hours=3), PENDING_AFTER_20_MIN, (closed, CLOSED, CaseStatus.CLOSED)
    )

    resolution = timers[RESOLUTION]
    assert not resolution.running
    assert resolution.used == timedelta(minutes=20)
    assert resolution.met_at == closed  # `/case sla` says "stopped", not "paused, 3 h 40 min left"
    assert [(step.kind, step.cause) for step in resolution.steps] == [
        ("start", "case opened"),
        ("pause", "waiting on the requester"),
        ("stop", "case closed"),
    ]


def test_a_case_closed_before_any_reply_stops_the_first_response_clock_unmet() -> None:
    closed = T0 + timedelta(minutes=30)

    timers = timers_at(closed, ROUND_THE_CLOCK_POLICY, T0, (closed, CLOSED, CaseStatus.CLOSED))

    first = timers[FIRST_RESPONSE]
    assert not first.running
    assert first.met_at is None
    assert first.used == timedelta(minutes=30)
    assert first.steps[-1].cause == "case closed before any reply"


def test_the_first_agent_reply_meets_the_first_response_target() -> None:
    replied = T0 + timedelta(minutes=40)

    timers = timers_at(
        T0 + timedelta(hours=3), ROUND_THE_CLOCK_POLICY, T0, (replied, RESPONDED, None)
    )

    first = timers[FIRST_RESPONSE]
    assert not first.running
    assert (first.met_at, first.used) == (replied, timedelta(minutes=40))
    assert first.steps[-1].cause == f"first agent reply by <@{AGENT}>"
    assert timers[RESOLUTION].running


def test_events_after_now_are_not_replayed_yet() -> None:
    timers = claimed_case_timers(
        T0 + timedelta(minutes=10), (T0 + timedelta(minutes=30), PENDING, CaseStatus.PENDING)
    )

    assert timers[RESOLUTION].running
    assert timers[RESOLUTION].used == timedelta(minutes=10)


# compute_timers: a priority change replays the history against the new policy


@pytest.mark.parametrize(
    ("priority", "first_response_due", "first_response_warn", "resolution_due"),
    [
        pytest.param(
            "p3",
            utc(2026, 11, 23, 13),  # office: Mon 10:00 + 4 h = 14:00 CET
            utc(2026, 11, 23, 12),  # 75 % of 4 h = 3 h
            # 2 d = 48 h of business time = six 8 h days: Mon 7 h, Tue-Fri 32 h, next Mon 8 h,
            # then 1 h on Tue 1 Dec: 10:00 CET.
            utc(2026, 12, 1, 9),
            id="p3-office-hours",
        ),
        pytest.param(
            "p1",
            T0 + timedelta(minutes=15),  # from the case's start, not from the change at +10 min
            T0 + timedelta(minutes=7, seconds=30),
            T0 + timedelta(hours=4),
            id="p1-24x7-counted-from-the-opening",
        ),
    ],
)
def test_a_priority_change_recomputes_the_timers_from_the_cases_start(
    priority: str,
    first_response_due: datetime,
    first_response_warn: datetime,
    resolution_due: datetime,
) -> None:
    changed = T0 + timedelta(minutes=10)
    sla = policy(TWO_PRIORITIES, priority)
    case = case_opened_at(T0, priority=priority)
    events = history(case, (changed, CaseAction.PRIORITY_CHANGED, None))

    timers = compute_timers(case, events, sla, changed)

    first, resolution = timers[FIRST_RESPONSE], timers[RESOLUTION]
    assert (first.due_at, first.warn_at) == (first_response_due, first_response_warn)
    assert resolution.due_at == resolution_due


def test_a_priority_without_its_own_entry_takes_the_team_default() -> None:
    two_priorities = policies(TWO_PRIORITIES)

    p1, p4 = two_priorities.policy("support", "p1"), two_priorities.policy("support", "p4")

    assert p1 is not None
    assert p4 is not None
    assert (p1.first_response, p1.calendar.name, p1.warn_at) == (timedelta(minutes=15), "24x7", 0.5)
    assert (p4.first_response, p4.calendar.name, p4.warn_at) == (timedelta(hours=4), "office", 0.75)
    assert two_priorities.policy("billing", "p1") is None


# parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("15m", timedelta(minutes=15), id="minutes"),
        pytest.param("4h", timedelta(hours=4), id="hours"),
        pytest.param("2d", timedelta(days=2), id="days-of-24h"),
        pytest.param("1h30m", timedelta(minutes=90), id="hours-and-minutes"),
        pytest.param("1d 2h", timedelta(hours=26), id="days-and-hours-with-a-space"),
        pytest.param(" 4H ", timedelta(hours=4), id="upper-case-and-padding"),
    ],
)
def test_parse_duration_accepts_the_documented_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("soon", id="a-word"),
        pytest.param("15", id="no-unit"),
        pytest.param("4 hours", id="spelled-out"),
        pytest.param("1.5h", id="a-fraction"),
        pytest.param("-1h", id="negative"),
        pytest.param("30s", id="seconds"),
        pytest.param("30m1h", id="units-out-of-order"),
        pytest.param("0m", id="zero"),
    ],
)
def test_parse_duration_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration|must be longer than zero"):
        parse_duration(text)


# check-config: calendars and SLA policies


@pytest.mark.parametrize(
    ("office_yaml", "problem"),
    [
        pytest.param(
            "timezone: Europe/Berlln\nhours: {weekdays: ['09:00-17:00']}",
            "calendars.office.timezone: unknown time zone 'Europe/Berlln' "
            "(use an IANA name like Europe/Berlin)",
            id="unknown-time-zone",
        ),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {weekdays: ['09:00-13:00'], mon: ['12:00-18:00']}",
            "calendars.office.hours: mon: opening hours overlap (09:00-13:00 and 12:00-18:00)",
            id="overlapping-intervals",
        ),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {weekdays: ['17:00-09:00']}",
            "calendars.office.hours: weekdays: '17:00-09:00' ends before it starts "
            "(overnight hours: split at 24:00)",
            id="an-interval-ending-before-it-starts",
        ),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {mondays: ['09:00-17:00']}",
            "calendars.office.hours: 'mondays' is not a day (mon..sun, weekdays, weekend or daily)",
            id="not-a-day",
        ),
        pytest.param("timezone: Europe/Berlin\nhours: {}", NO_HOURS, id="no-hours-empty-mapping"),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {weekdays: []}", NO_HOURS, id="no-hours-empty-lists"
        ),
        pytest.param("timezone: Europe/Berlin", NO_HOURS, id="no-hours-key-at-all"),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {weekdays: ['09:00-17:00']}\nholidays: {country: XX}",
            "calendars.office.holidays: the holidays package knows no country 'XX'",
            id="unknown-holiday-country",
        ),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {weekdays: ['09:00-17:00']}\n"
            "holidays: {country: DE, subdivision: XY}",
            "calendars.office.holidays: the holidays package knows no country 'DE' with "
            "subdivision 'XY'",
            id="unknown-holiday-subdivision",
        ),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {weekdays: ['09:00-17:00']}\n"
            "holidays: {dates: ['2026-02-30']}",
            "calendars.office.holidays: holiday '2026-02-30' is not a date (YYYY-MM-DD) or "
            "range (YYYY-MM-DD..YYYY-MM-DD)",
            id="a-holiday-that-is-not-a-date",
        ),
        pytest.param(
            "timezone: Europe/Berlin\nhours: {weekdays: ['09:00-17:00']}\n"
            "holidays: {dates: ['2026-12-31..2026-12-24']}",
            "calendars.office.holidays: holiday range '2026-12-31..2026-12-24' ends before it "
            "starts",
            id="a-holiday-range-backwards",
        ),
    ],
)
def test_check_config_rejects_a_broken_calendar_naming_its_key_path(
    office_yaml: str, problem: str
) -> None:
    assert config_problems(with_calendar(office_yaml)) == [problem]


@pytest.mark.parametrize(
    ("sla_yaml", "problem"),
    [
        pytest.param(
            "sla: {teams: {support: {default: {first_response: 1h, calendar: office}}}}",
            "sla.teams.support.default.calendar: 'office' is not one of the calendars "
            "(none defined) nor '24x7'",
            id="unknown-calendar-none-defined",
        ),
        pytest.param(
            "calendars: {office: {timezone: Europe/Berlin, hours: {daily: ['08:00-20:00']}}}\n"
            "sla: {teams: {support: {p1: {first_response: 1h, calendar: ofice}}}}",
            "sla.teams.support.p1.calendar: 'ofice' is not one of the calendars (office) "
            "nor '24x7'",
            id="unknown-calendar-misspelt",
        ),
        pytest.param(
            "sla: {teams: {sales: {default: {first_response: 1h}}}}",
            "sla.teams.sales: 'sales' is not one of the teams",
            id="sla-for-an-unknown-team",
        ),
        pytest.param(
            "sla: {teams: {support: {default: {first_response: 4 hours}}}}",
            "sla.teams.support.default.first_response: '4 hours' is not a duration like 15m, "
            "4h, 2d or 1h30m",
            id="a-duration-that-is-not-one",
        ),
    ],
)
def test_check_config_rejects_a_broken_sla_policy_naming_its_key_path(
    sla_yaml: str, problem: str
) -> None:
    assert config_problems(sla_yaml) == [problem]


def test_check_config_lists_every_calendar_and_sla_problem_at_once() -> None:
    problems = config_problems(
        "calendars:\n"
        "  office: {timezone: Mars/Olympus, hours: {weekdays: ['09:00-17:00']}}\n"
        "  night: {timezone: UTC, hours: {daily: ['20:00-23:00', '22:00-24:00']}}\n"
        "sla: {teams: {sales: {default: {first_response: 1h, calendar: weekend}}}}\n"
    )

    assert problems == [
        "calendars.office.timezone: unknown time zone 'Mars/Olympus' "
        "(use an IANA name like Europe/Berlin)",
        "calendars.night.hours: mon: opening hours overlap (20:00-23:00 and 22:00-24:00)",
        "sla.teams.sales: 'sales' is not one of the teams",
        "sla.teams.sales.default.calendar: 'weekend' is not one of the calendars "
        "(night, office) nor '24x7'",
    ]


def test_a_valid_calendar_and_policy_load() -> None:
    policies = office_policies(
        "timezone: America/New_York\nhours: {weekdays: ['08:00-12:00', '13:00-17:00']}\n"
        "holidays: {country: US, subdivision: NY, dates: ['2026-12-24..2026-12-31']}"
    )

    sla = policies.policy("support", "p2")
    assert sla is not None
    assert sla.calendar.name == "office"
    # Thu 24 Dec 2026 is inside the explicit range, Fri 25th is US Christmas too.
    assert sla.calendar.next_open(new_york(2026, 12, 23, 18)) == utc(2027, 1, 4, 13)


def test_an_unquoted_yaml_date_is_a_holiday_too() -> None:
    # YAML reads `2026-11-24` without quotes as a date, not a string; operators write it so.
    policies = office_policies(
        "timezone: Europe/Berlin\nhours: {weekdays: ['09:00-17:00']}\n"
        "holidays: {dates: [2026-11-24, '2026-12-28..2026-12-31']}"
    )

    office = policies.calendars["office"]
    assert office.is_holiday(date(2026, 11, 24))
    assert office.is_holiday(date(2026, 12, 30))
    assert not office.is_holiday(date(2026, 11, 25))
