"""SLA timers of a case (`compute_timers`) through its history: pending pauses the resolution clock,
resume and reopen continue from the budget left, closing stops the clocks, and the first agent reply
meets the first response target. Expected instants are UTC, worked out by hand beside each
(`sla_timers_helpers` has the DST dates)."""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import AGENT
from sla_timers_helpers import (
    OFFICE_POLICY,
    ROUND_THE_CLOCK_POLICY,
    T0,
    Step,
    berlin,
    timers_at,
    utc,
)

from bot.cases.views.replies import step_cause
from bot.sla.policies import FIRST_RESPONSE, RESOLUTION, ClockStep, SlaPolicy, Timer
from models import CaseAction, CaseStatus

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
    assert step_cause(first.steps[-1]) == f"first agent reply by <@{AGENT}>"
    assert timers[RESOLUTION].running


def test_events_after_now_are_not_replayed_yet() -> None:
    timers = claimed_case_timers(
        T0 + timedelta(minutes=10), (T0 + timedelta(minutes=30), PENDING, CaseStatus.PENDING)
    )

    assert timers[RESOLUTION].running
    assert timers[RESOLUTION].used == timedelta(minutes=10)
