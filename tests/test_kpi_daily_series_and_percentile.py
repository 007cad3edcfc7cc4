"""The chart's daily series of openings, closes and SLA attainment, and the percentile both
databases compute, over `metrics_helpers` histories."""

from __future__ import annotations

import pytest
from conftest import BILLING_AGENT, START
from helpers import DAY, MINUTE
from metrics_helpers import (
    MONDAY,
    History,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    history_fixture,  # noqa: F401  (the history fixture)
)
from sqlalchemy import select

from bot import metrics
from bot.db import Database
from bot.sqlfuncs import percentile
from models import Case

# The chart's daily series


def test_daily_counts_give_each_day_its_openings_cases_resolved_and_sla_attainment(
    history: History, database: Database
) -> None:
    """Support: 15 min to respond, 1 h to resolve, round the clock. Monday 09:00: #1
    answered and closed in time; #2 opened, answered and closed on Tuesday: both its targets
    came due on Monday (09:15 and 10:00), missed there. Tuesday: #3 billing's; #4 closed,
    reopened and closed again (resolved once, in time; never answered, but closed before its
    first response came due). Wednesday, 09:10 now: #5 opened at 08:50 (first response due
    09:05: missed; resolution due 09:50: not yet), #6 at 09:00 (nothing due yet)."""
    history.at(START)
    on_time, late = history.open("On time"), history.open("Late")
    history.wait(10 * MINUTE)
    history.reply(on_time)
    history.close(on_time)
    history.at(START + DAY)
    history.reply(late)
    history.close(late)
    billing = history.open("Billing's", team="billing")
    history.close(billing, by=BILLING_AGENT)
    twice = history.open("Closed twice")
    history.close(twice)
    history.reopen(twice)
    history.wait(5 * MINUTE)
    history.close(twice)
    history.at(START + 2 * DAY - 10 * MINUTE)
    history.open("Unanswered")
    history.at(START + 2 * DAY)
    history.open("Just in")
    history.wait(10 * MINUTE)
    days = [(MONDAY + n * DAY, MONDAY + (n + 1) * DAY) for n in range(3)]

    with database.read_only() as session:
        series = metrics.daily_counts(
            session, team_key="support", days=days, until=history.clock.now()
        )

    assert series == [
        (2, 1, metrics.Ratio(2, 4)),
        (1, 2, metrics.Ratio(1, 1)),
        (2, 0, metrics.Ratio(0, 1)),
    ]


# The percentile both databases compute


def test_percentile_interpolates_linearly_between_values_like_percentile_cont(
    history: History, database: Database
) -> None:
    history.at(START)
    numbers = [history.open(f"Case {n}") for n in range(5)]
    with database.unit_of_work() as session:
        for number, seconds in zip(numbers, [7, 1, None, 5, 3], strict=True):
            session.get_one(Case, number).first_response_seconds = seconds
    fractions = [0.0, 0.25, 0.5, 0.9, 1.0]

    with database.read_only() as session:
        values = session.execute(
            select(*(percentile(f, Case.first_response_seconds) for f in fractions))
        ).one()

    # Sorted 1, 3, 5, 7 (NULL ignored); 0.9 sits at position 2.7: 5 + 0.7 * (7 - 5).
    assert list(values) == pytest.approx([1.0, 2.5, 4.0, 6.4, 7.0])


def test_percentile_of_no_values_is_null_and_groups_separately(
    history: History, database: Database
) -> None:
    history.at(START)
    support = [history.open("Printer on fire"), history.open("Printer out of paper")]
    billing = history.open(team="billing")
    with database.unit_of_work() as session:
        for number, seconds in zip([*support, billing], [100, 300, 50], strict=True):
            session.get_one(Case, number).resolution_seconds = seconds

    with database.read_only() as session:
        by_team = dict(
            session.execute(
                select(Case.team_key, percentile(0.5, Case.resolution_seconds))
                .group_by(Case.team_key)
                .order_by(Case.team_key)
            ).all()
        )
        nothing = session.scalar(
            select(percentile(0.5, Case.resolution_seconds)).where(Case.team_key == "nobody")
        )

    assert by_team == {"billing": 50.0, "support": 200.0}
    assert nothing is None


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_percentile_refuses_a_fraction_outside_zero_to_one(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction must be within 0 and 1"):
        percentile(fraction, Case.first_response_seconds)
