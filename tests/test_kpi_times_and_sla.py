"""Times and SLA from `metrics_helpers` histories: first response and resolution medians and
p90 in the team's business hours, and SLA attainment with its breaches."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import AGENT, AGENT_2, BILLING_AGENT, REQUESTER, START
from helpers import DAY, HOUR, MINUTE
from metrics_helpers import (
    MONDAY,
    TUESDAY,
    History,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    history_fixture,  # noqa: F401  (the history fixture)
)

from bot import metrics
from bot.cases.rules import CaseService
from bot.cases.sync import CaseSync
from bot.clock import ManualClock
from bot.db import Database
from bot.roster import Roster
from bot.sla.check import SlaCheck

# Times


def test_first_response_median_and_p90_interpolate_between_the_cases_answered(
    history: History,
) -> None:
    history.at(START)
    numbers = [history.open(f"Case {n}") for n in range(4)]
    history.open("Nobody answers this one")
    for number in numbers:  # first replies after 10, 20, 30 and 40 minutes
        history.wait(10 * MINUTE)
        history.reply(number, by=REQUESTER)  # the requester writing is no response
        history.reply(number, by=AGENT)
    history.wait(HOUR)
    history.reply(numbers[0], by=AGENT_2)  # later replies do not move the first response

    kpis = history.kpis()

    assert kpis.first_response == metrics.Spread(median=25 * 60.0, p90=37 * 60.0, count=4)


def test_resolution_time_runs_from_opening_to_close_with_time_pending_left_out(
    history: History,
) -> None:
    history.at(START)
    waited, straight = history.open("Waits on the requester"), history.open("Closed straight")
    history.claim(waited)
    history.wait(30 * MINUTE)
    history.pending(waited)
    history.wait(2 * HOUR)  # two hours pending: not resolution time
    history.resume(waited)
    history.wait(30 * MINUTE)
    history.close(waited)  # 3 h after opening, 1 h of it not pending
    history.wait(HOUR)
    history.close(straight)  # 4 h after opening

    kpis = history.kpis()

    assert kpis.resolution == metrics.Spread(median=150 * 60.0, p90=222 * 60.0, count=2)


def test_a_case_reopened_and_still_open_has_no_resolution_time(history: History) -> None:
    history.at(START)
    number = history.open()
    history.wait(HOUR)
    history.close(number)
    history.reopen(number)

    kpis = history.kpis()

    assert kpis.resolved == 1
    assert kpis.resolution == metrics.Spread(median=None, p90=None, count=0)


def test_times_count_only_the_business_hours_of_the_team_calendar(history: History) -> None:
    history.at(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # Monday 16:30 in Berlin
    number = history.open(team="billing")
    history.at(datetime(2026, 11, 24, 8, 15, tzinfo=UTC))  # Tuesday 09:15 in Berlin
    history.reply(number, by=BILLING_AGENT)
    history.at(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # Tuesday 10:00 in Berlin
    history.close(number, by=BILLING_AGENT)

    kpis = history.kpis(MONDAY, TUESDAY + DAY, team="billing")

    assert kpis.first_response.median == 45 * 60  # 30 min on Monday, 15 on Tuesday
    assert kpis.resolution.median == 90 * 60  # 30 min on Monday, 60 on Tuesday
    assert kpis.first_response_sla == metrics.Ratio(1, 1)
    assert kpis.resolution_sla == metrics.Ratio(1, 1)


# SLA


def test_sla_attainment_counts_every_target_due_and_breaches_are_the_targets_missed(
    history: History, database: Database, cases: CaseService, roster: Roster, clock: ManualClock
) -> None:
    assert cases.sla is not None
    check = SlaCheck(
        db=database,
        desk=cases.desk,
        cases=cases,
        tracker=cases.sla,
        roster=roster,
        clock=clock,
        digest_threshold=5,
        cards=CaseSync(desk=cases.desk, clock=clock, cases=cases, sla=cases.sla),
    )
    history.at(START)
    quick, slow, late_close = (history.open(f"Case {n}") for n in range(3))
    history.open("Never answered")
    history.wait(10 * MINUTE)
    history.reply(quick)  # first response met (15 min)
    history.reply(late_close)  # met
    history.wait(10 * MINUTE)
    check.run()  # 20 min: slow and the unanswered case breach their first response
    history.reply(slow)  # 20 min: missed at 09:15
    history.close(quick)  # resolution met (1 h)
    history.wait(2 * HOUR)
    check.run()  # the three cases still open breach their resolution
    history.close(late_close)  # resolution missed at 10:00

    kpis = history.kpis()

    # The unanswered case missed its first response at 09:15, as the slow one did.
    assert kpis.first_response_sla == metrics.Ratio(2, 4)
    # Missed at 10:00: the one closed late, and the two still open.
    assert kpis.resolution_sla == metrics.Ratio(1, 4)
    assert kpis.breaches == 5
