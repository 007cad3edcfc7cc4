"""First-contact resolution (cases closed by their first and only owner) and CSAT (the survey
answers' average, distribution and response rate), from `metrics_helpers` histories."""

from __future__ import annotations

import pytest
from conftest import AGENT, AGENT_2, START
from helpers import DAY, HOUR, MINUTE
from metrics_helpers import (
    TUESDAY,
    History,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    history_fixture,  # noqa: F401  (the history fixture)
)

from bot import metrics

# First-contact resolution


def test_first_contact_resolution_counts_cases_closed_by_their_first_and_only_owner(
    history: History,
) -> None:
    history.at(START)
    claimed_and_closed = history.open("Counts: claimed and closed by the same agent")
    assigned_and_closed = history.open("Counts: assigned once, closed by the assignee")
    handed_over = history.open("Closed by a second agent")
    handed_back = history.open("Reassigned, then back to the first agent")
    escalated = history.open("Escalated")
    reopened = history.open("Reopened")
    history.claim(claimed_and_closed)
    history.assign(assigned_and_closed, to=AGENT)
    history.claim(handed_over)
    history.assign(handed_over, to=AGENT_2)
    history.claim(handed_back)
    history.assign(handed_back, to=AGENT_2)
    history.assign(handed_back, to=AGENT)
    history.claim(escalated)
    history.escalate(escalated)
    history.claim(reopened)
    history.wait(HOUR)
    for number in (claimed_and_closed, assigned_and_closed, handed_back, escalated, reopened):
        history.close(number, by=AGENT)
    history.close(handed_over, by=AGENT_2)
    history.reopen(reopened)
    history.close(reopened, by=AGENT)

    kpis = history.kpis()

    assert kpis.first_contact_resolution == metrics.Ratio(2, 6)


def test_a_case_closed_then_reopened_is_no_first_contact_resolution_of_its_period(
    history: History,
) -> None:
    history.at(START)
    kept, reopened = history.open("Stays closed"), history.open("Comes back on Tuesday")
    for number in (kept, reopened):
        history.claim(number)
        history.close(number)
    history.at(TUESDAY + HOUR)
    history.reopen(reopened)

    assert history.kpis().first_contact_resolution == metrics.Ratio(1, 2)


def test_an_agent_closing_a_case_nobody_claimed_resolved_it_at_first_contact(
    history: History,
) -> None:
    history.at(START)
    number = history.open()
    history.wait(10 * MINUTE)
    history.close(number, by=AGENT)

    assert history.kpis().first_contact_resolution == metrics.Ratio(1, 1)


# CSAT


def test_csat_average_distribution_and_response_rate_come_from_the_answers(
    history: History,
) -> None:
    history.at(START)
    numbers = [history.open(f"Case {n}") for n in range(5)]
    history.wait(HOUR)
    for number in numbers:
        history.close(number)
    assert all(history.survey(number) for number in numbers)
    history.wait(10 * MINUTE)
    history.rate(numbers[0], 5)
    history.rate(numbers[1], 2)
    history.rate(numbers[1], 4)  # changed their mind: one answer, now 4
    history.rate(numbers[2], 4)
    history.rate(numbers[3], 1)
    # numbers[4] never answers

    kpis = history.kpis()

    assert kpis.csat_average == pytest.approx((5 + 4 + 4 + 1) / 4)
    assert kpis.csat_distribution == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    assert kpis.csat_response_rate == metrics.Ratio(4, 5)


def test_csat_counts_answers_given_in_the_period(history: History) -> None:
    history.at(START)
    number = history.open()
    history.close(number)
    history.survey(number)
    history.at(TUESDAY + HOUR)
    history.rate(number, 3)

    monday, tuesday = history.kpis(), history.kpis(TUESDAY, TUESDAY + DAY)

    assert (monday.csat_average, monday.csat_response_rate) == (None, metrics.Ratio(1, 1))
    assert tuesday.csat_average == 3.0
    assert tuesday.csat_distribution == {1: 0, 2: 0, 3: 1, 4: 0, 5: 0}
    assert tuesday.csat_response_rate == metrics.Ratio(0, 0)  # answered Tuesday, asked Monday


def test_an_answer_to_an_earlier_survey_does_not_answer_a_later_one(history: History) -> None:
    history.at(START)
    number = history.open()
    history.close(number)
    history.survey(number)
    history.wait(HOUR)
    history.rate(number, 2)
    history.at(TUESDAY + HOUR)
    history.reopen(number)
    history.close(number)
    history.survey(number)

    monday, tuesday = history.kpis(), history.kpis(TUESDAY, TUESDAY + DAY)

    assert monday.csat_response_rate == metrics.Ratio(1, 1)
    assert tuesday.csat_response_rate == metrics.Ratio(0, 1)


def test_the_requester_closing_their_own_case_is_not_surveyed(history: History) -> None:
    history.at(START)
    number = history.open(by=AGENT)  # an agent with a case of their own
    history.close(number, by=AGENT)

    assert history.survey(number) is False
    assert history.kpis().csat_response_rate == metrics.Ratio(0, 0)
