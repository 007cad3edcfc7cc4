"""What the modules about SLA clocks without a database share: the calendars and policies they
count in, and a case history to replay.

Every expected instant is UTC and was worked out by hand; the comment next to it shows how.
Berlin is UTC+1 in winter (CET) and UTC+2 in summer (CEST); New York is UTC-5 (EST) and UTC-4
(EDT). In 2026 Berlin springs forward on 29 March and falls back on 25 October, New York on 8
March and 1 November. 2026-11-23 is a Monday."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from conftest import AGENT, REQUESTER

from bot.sla.calendars import BusinessCalendar, CalendarConfig
from bot.sla.policies import SlaConfig, SlaPolicies, SlaPolicy, Timer, compute_timers
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


class Calendars:
    """The business calendars the modules about calendars count in; Berlin's office hours on
    weekdays unless the name says otherwise."""

    OFFICE = calendar()
    LUNCH_BREAK = calendar(LUNCH_BREAK_HOURS)
    GERMAN_OFFICE = calendar(holidays={"country": "DE"})
    GERMAN_EVERY_DAY = calendar(EVERY_DAY_HOURS, holidays={"country": "DE"})
    BAVARIAN_OFFICE = calendar(holidays={"country": "DE", "subdivision": "BY"})
    NEW_YORK_OFFICE = calendar(timezone="America/New_York")

    BERLIN_ROUND_THE_CLOCK = calendar(ROUND_THE_CLOCK_HOURS)
    BERLIN_NIGHT_SHIFT = calendar(NIGHT_SHIFT_HOURS)
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
