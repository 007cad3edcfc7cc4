"""SLA timers of a case (`compute_timers`): when its clocks start, when each is due and when it
warns, on office hours and 24x7, and how a priority change replays the history against the new
policy. Expected instants are UTC, worked out by hand beside each (`sla_timers_helpers` has the DST
dates)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sla_timers_helpers import (
    OFFICE_POLICY,
    ROUND_THE_CLOCK_POLICY,
    T0,
    berlin,
    case_opened_at,
    history,
    policies,
    policy,
    timers_at,
    utc,
)

from bot.sla.policies import FIRST_RESPONSE, RESOLUTION, compute_timers
from models import CaseAction

TWO_PRIORITIES = {
    "default": {"first_response": "4h", "resolution": "2d", "calendar": "office"},
    "p1": {"first_response": "15m", "resolution": "4h", "warn_at": 0.5, "calendar": "24x7"},
}


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
