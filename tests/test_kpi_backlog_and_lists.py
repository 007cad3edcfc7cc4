"""Team KPIs at a moment, each read from a `metrics_helpers.History`: the backlog replayed to
each case's status and priority, the oldest open cases, the cases at risk, the agent table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import AGENT, AGENT_2, MANAGER, START, sla_desk
from helpers import HOUR, MINUTE
from metrics_helpers import (
    MONDAY,
    TUESDAY,
    History,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    history_fixture,  # noqa: F401  (the history fixture)
)
from summaries_helpers import summary_service

from bot import metrics
from bot.clock import ManualClock
from bot.db import Database
from models import Case

# Helpers: a history written one request at a time


def case_ids(found: list[Case]) -> list[int]:
    return [case.id for case in found]


# Backlog and lists


def test_backlog_replays_each_case_to_its_status_at_the_moment(history: History) -> None:
    moment = START + 3 * HOUR
    history.at(START)
    history.open("Open then and now")
    closed_later = history.open("In progress then, closed after the moment")
    closed_before = history.open("Closed before the moment")
    waiting = history.open("Pending then, resumed after", priority="p1")
    reopened_later = history.open("Closed then, reopened after the moment")
    reopened_before = history.open("Closed and reopened before the moment")
    history.claim(closed_later)
    history.claim(waiting)
    history.claim(reopened_before)
    history.wait(HOUR)
    history.pending(waiting)
    history.close(closed_before)
    history.close(reopened_later)
    history.close(reopened_before)
    history.reopen(reopened_before)
    history.at(moment + HOUR)
    history.open("Opened after the moment")
    history.close(closed_later)
    history.resume(waiting)
    history.reopen(reopened_later)

    assert history.backlog(moment) == {
        ("open", "p3"): 1,
        ("in_progress", "p3"): 2,
        ("pending", "p1"): 1,
    }
    assert history.backlog(moment, team="billing") == {}


def test_backlog_counts_a_case_under_the_priority_it_had_at_the_moment(history: History) -> None:
    moment = START + HOUR
    history.at(START)
    number = history.open(priority="p3")
    history.at(moment + HOUR)
    history.set_priority(number, "p1")  # raised after the moment

    assert history.backlog(moment) == {("open", "p3"): 1}
    assert history.backlog(moment + 2 * HOUR) == {("open", "p1"): 1}


def test_oldest_open_lists_the_teams_unclosed_cases_oldest_first(
    history: History, database: Database
) -> None:
    history.at(START)
    closed = history.open("Oldest but closed")
    history.wait(MINUTE)
    first = history.open("Oldest open")
    history.wait(MINUTE)
    history.open("Billing's", team="billing")
    second = history.open("Second oldest")
    history.wait(MINUTE)
    third = history.open("Newest")
    history.close(closed)

    with database.read_only() as session:
        assert case_ids(metrics.oldest_open(session, team_key="support")) == [first, second, third]
        assert case_ids(metrics.oldest_open(session, team_key="support", limit=2)) == [
            first,
            second,
        ]


def test_at_risk_lists_open_cases_with_a_timer_due_before_the_horizon_soonest_first(
    history: History, database: Database, clock: ManualClock
) -> None:
    history.at(START)
    first = history.open("First response due at 09:15")
    history.wait(5 * MINUTE)
    answered = history.open("Answered; resolution due at 10:05")
    history.wait(MINUTE)
    history.reply(answered)
    history.wait(4 * MINUTE)
    later = history.open("First response due at 09:25")
    closed = history.open("Closed")
    history.close(closed)
    history.open("Billing's", team="billing")

    def at_risk(within: timedelta) -> list[int]:
        with database.read_only() as session:
            horizon = clock.now() + within
            return case_ids(metrics.at_risk(session, team_key="support", horizon=horizon))

    assert at_risk(30 * MINUTE) == [first, later]
    assert at_risk(4 * HOUR) == [first, later, answered]
    assert at_risk(MINUTE) == []


def test_at_risk_may_look_further_ahead_for_some_priorities_than_for_others(
    history: History, database: Database, clock: ManualClock
) -> None:
    history.at(START)
    urgent = history.open("P1: first response due at 09:15", priority="p1")
    normal = history.open("P3: first response due at 09:15", priority="p3")  # beyond P3's

    with database.read_only() as session:
        found = metrics.at_risk(
            session,
            team_key="support",
            horizon={"p1": START + 20 * MINUTE, "p3": START + 10 * MINUTE},
        )

    assert case_ids(found) == [urgent]
    with database.read_only() as session:
        unnamed = metrics.at_risk(session, team_key="support", horizon={"p2": START + 20 * MINUTE})
    assert sorted(case_ids(unnamed)) == sorted([urgent, normal])  # p1, p3: furthest horizon


def test_the_summary_looks_four_business_hours_ahead_on_each_prioritys_calendar(
    database: Database, clock: ManualClock
) -> None:
    """Billing counts office hours in Berlin, but its P1 cases round the clock."""
    desk = sla_desk(
        """
sla:
  teams:
    billing:
      default: {first_response: 1h, resolution: 8h, calendar: office}
      p1: {first_response: 15m, resolution: 2h, calendar: 24x7}
""",
        source="risk test desk",
    )
    summaries = summary_service(database, desk, clock)
    friday_evening = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 16:00 in Berlin

    horizons = summaries.risk_horizons(desk.team("billing"), friday_evening)

    assert horizons["p1"] == friday_evening + 4 * HOUR
    assert horizons["p3"] == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # Monday 12:00 Berlin


def test_agent_table_shows_each_agents_work_in_the_period_and_load_now(
    history: History, database: Database
) -> None:
    history.at(MONDAY - 2 * HOUR)
    yesterdays = history.open("Taken on Sunday, still open")
    history.claim(yesterdays, by=AGENT)
    history.at(START)
    closed, answered_late, untouched = (history.open(f"Case {n}") for n in range(3))
    history.claim(closed, by=AGENT)
    history.claim(answered_late, by=AGENT)
    history.claim(untouched, by=AGENT_2)
    history.wait(10 * MINUTE)
    history.reply(closed, by=AGENT)  # 10 min
    history.wait(20 * MINUTE)
    history.reply(answered_late, by=AGENT)  # 30 min
    history.close(closed, by=AGENT)

    with database.read_only() as session:
        rows = metrics.agent_table(
            session,
            team_key="support",
            agents=[MANAGER, AGENT_2, AGENT],
            start=MONDAY,
            end=TUESDAY,
        )

    assert rows == [
        metrics.AgentRow(AGENT, handled=2, resolved=1, first_response_median=1200.0, open_now=2),
        metrics.AgentRow(AGENT_2, handled=1, resolved=0, first_response_median=None, open_now=1),
        metrics.AgentRow(MANAGER, handled=0, resolved=0, first_response_median=None, open_now=0),
    ]


def test_agent_table_of_nobody_is_empty(database: Database) -> None:
    with database.read_only() as session:
        assert (
            metrics.agent_table(session, team_key="support", agents=[], start=MONDAY, end=TUESDAY)
            == []
        )
