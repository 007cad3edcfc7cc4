"""SLA durations and configuration: the duration forms `parse_duration` accepts and refuses, and
what `check-config` says of broken calendars and SLA policies, each with its key path."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import DESK_YAML
from sla_timers_helpers import new_york, utc

from bot.desk import ConfigError, parse_desk_config
from bot.sla.policies import SlaPolicies, parse_duration


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
