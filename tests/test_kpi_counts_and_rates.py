"""Team KPIs, counts and rates, from `metrics_helpers` histories: cases opened, resolved and
escalated and reopen events in the period, for the team that had the case, and a quiet period
with zeros and no data."""

from __future__ import annotations

import pytest
from conftest import BILLING_AGENT, REQUESTER, START
from helpers import DAY, HOUR, MINUTE
from metrics_helpers import (
    MONDAY,
    TUESDAY,
    History,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    history_fixture,  # noqa: F401  (the history fixture)
)

from bot import metrics

# Counts and rates


def test_counts_cases_opened_resolved_and_escalated_and_reopen_events_in_the_period(
    history: History,
) -> None:
    history.at(MONDAY - 3 * HOUR)  # Sunday night: before the period
    old = history.open("Opened on Sunday")
    history.escalate(old)
    history.at(START)
    escalated, reopened, carried_over = (history.open(f"Case {n}") for n in range(3))
    history.close(old)
    history.escalate(escalated)
    history.wait(10 * MINUTE)
    history.escalate(escalated)  # escalated twice: still one escalated case
    history.close(reopened)
    history.reopen(reopened)
    history.close(reopened)  # resolved twice in the period: two resolutions
    history.at(TUESDAY + HOUR)
    history.close(carried_over)  # after the period

    kpis = history.kpis()

    assert (kpis.opened, kpis.resolved, kpis.reopened, kpis.escalated) == (3, 2, 1, 1)
    assert kpis.escalation_rate == metrics.Ratio(1, 3)  # of the 3 opened, 1 escalated
    assert kpis.reopen_rate == metrics.Ratio(1, 2)  # of the 2 cases closed, 1 reopened since
    assert kpis.reopen_rate.value == pytest.approx(1 / 2)


def test_rates_follow_their_cases_and_never_exceed_one_hundred_percent(
    history: History,
) -> None:
    history.at(MONDAY - 3 * HOUR)  # Sunday night
    sunday = [history.open(f"Sunday {n}") for n in range(3)]
    for number in sunday:
        history.close(number)
    history.at(START)
    monday = history.open("Opened on Monday")
    for number in sunday:  # Monday: three reopens and three escalations of Sunday's cases
        history.reopen(number)
        history.escalate(number)
    history.close(monday)

    sunday_kpis = history.kpis(MONDAY - DAY, MONDAY)
    monday_kpis = history.kpis()

    assert (monday_kpis.reopened, monday_kpis.escalated, monday_kpis.opened) == (3, 3, 1)
    assert monday_kpis.escalation_rate == metrics.Ratio(0, 1)
    assert monday_kpis.reopen_rate == metrics.Ratio(0, 1)
    assert sunday_kpis.escalation_rate == metrics.Ratio(3, 3)
    assert sunday_kpis.reopen_rate == metrics.Ratio(3, 3)


def test_counts_belong_to_the_team_that_has_the_case(history: History) -> None:
    history.at(START)
    history.open(team="billing", by=REQUESTER)
    history.open()

    assert history.kpis(team="billing").opened == 1
    assert history.kpis(team="support").opened == 1


def test_events_count_for_the_team_the_case_was_in_when_they_happened(
    history: History,
) -> None:
    history.at(START)
    number = history.open()
    history.claim(number)
    history.close(number)  # support resolved it...
    history.reopen(number)
    history.wait(HOUR)
    history.escalate_to(number, "billing")  # ...then it came back and went to billing
    history.wait(HOUR)
    history.close(number, by=BILLING_AGENT)

    support, billing = history.kpis(team="support"), history.kpis(team="billing")

    assert (support.opened, support.resolved, support.reopened, support.escalated) == (1, 1, 1, 1)
    assert (billing.opened, billing.resolved, billing.reopened, billing.escalated) == (0, 1, 0, 0)
    assert (support.escalation_rate, billing.escalation_rate) == (
        metrics.Ratio(1, 1),  # support escalated the case it opened
        metrics.Ratio(0, 0),  # billing opened nothing: it only received the case
    )
    assert (support.reopen_rate, billing.reopen_rate) == (metrics.Ratio(1, 1), metrics.Ratio(0, 1))


def test_rates_can_be_followed_only_so_far_past_the_period_to_compare_like_for_like(
    history: History,
) -> None:
    history.at(START)
    number = history.open()
    history.claim(number)
    history.escalate(number)
    history.close(number)
    history.survey(number)
    history.at(TUESDAY + 2 * HOUR)
    history.rate(number, 5)
    history.reopen(number)

    as_of_tuesday_1am = history.kpis(followed_until=TUESDAY + HOUR)
    as_of_now = history.kpis()

    assert as_of_tuesday_1am.reopen_rate == metrics.Ratio(0, 1)
    assert as_of_tuesday_1am.csat_response_rate == metrics.Ratio(0, 1)
    assert as_of_tuesday_1am.escalation_rate == metrics.Ratio(1, 1)  # escalated on Monday
    assert as_of_now.reopen_rate == metrics.Ratio(1, 1)
    assert as_of_now.csat_response_rate == metrics.Ratio(1, 1)


# No data


def test_a_quiet_period_has_zero_counts_and_no_data_for_everything_measured(
    history: History,
) -> None:
    history.at(START)
    history.open()  # opened but neither answered nor closed
    kpis = history.kpis()

    assert (kpis.opened, kpis.resolved, kpis.reopened, kpis.escalated, kpis.breaches) == (
        1,
        0,
        0,
        0,
        0,
    )
    assert kpis.first_response == metrics.Spread(None, None, 0)
    assert kpis.resolution == metrics.Spread(None, None, 0)
    for ratio in (
        kpis.first_response_sla,
        kpis.resolution_sla,
        kpis.first_contact_resolution,
        kpis.reopen_rate,
        kpis.csat_response_rate,
    ):
        assert ratio.value is None
    assert kpis.escalation_rate.value == 0.0
    assert kpis.csat_average is None
    assert kpis.csat_distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}

    empty = history.kpis(TUESDAY, TUESDAY + DAY)
    assert empty.opened == 0
    assert empty.escalation_rate.value is None
