"""The team KPIs (`bot.metrics`), each computed from a small history whose answer is known,
written through the real case services with the clock moved between steps. Every test runs on
SQLite and on PostgreSQL, and must give the same figures on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_AGENT,
    MANAGER,
    REQUESTER,
    START,
    StaticDirectory,
    actor,
    sla_desk,
)
from sqlalchemy import select

from bot import metrics
from bot.cases.rules import CaseService
from bot.cases.sync import CaseSync
from bot.clock import ManualClock
from bot.csat.service import CsatService
from bot.db import Database
from bot.desk import DeskConfig
from bot.metrics.summaries import SummaryService
from bot.roster import Roster
from bot.sla.check import SlaCheck
from bot.sla.policies import SlaPolicies
from bot.sla.timers import SlaTracker
from bot.sqlfuncs import percentile
from models import Case

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# START is Monday 23 Nov 2026, 09:00 UTC; the periods below are that Monday, in UTC.
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
TUESDAY = MONDAY + DAY

# Support counts round the clock (so business time is wall time); billing counts office hours
# in Berlin (UTC+1 in November).
SLA_YAML = """
sla:
  teams:
    support:
      default: {first_response: 15m, resolution: 1h, calendar: 24x7}
    billing:
      default: {first_response: 1h, resolution: 8h, calendar: office}
"""


@pytest.fixture
def desk_config() -> DeskConfig:
    return sla_desk(SLA_YAML, source="metrics test desk")


@pytest.fixture
def cases(desk_config: DeskConfig, roster: Roster, clock: ManualClock) -> CaseService:
    """Measured like the app measures: the SLA tracker records the KPI times on every change."""
    return CaseService(
        desk_config, roster, clock, SlaTracker(SlaPolicies(desk_config.sla, desk_config.calendars))
    )


# Helpers: a history written one request at a time


def card_ts(number: int) -> str:
    return f"1700000000.{number:06d}"


class History:
    """Each call is one unit of work around one service call, at the clock's time."""

    def __init__(self, db: Database, cases: CaseService, clock: ManualClock) -> None:
        self.db = db
        self.cases = cases
        self.clock = clock

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)

    def wait(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    def open(
        self,
        title: str = "Printer on fire",
        *,
        team: str = "support",
        priority: str | None = None,
        by: str = REQUESTER,
    ) -> int:
        """Open a case and give it a card, so replies in its thread can be recorded."""
        with self.db.unit_of_work() as session:
            change = self.cases.open(
                session, actor=actor(by), title=title, team_key=team, priority=priority
            )
            number = change.case.id
            channel = self.cases.desk.team(team).channel
            self.cases.attach_card(
                session, number=number, channel_id=channel, card_ts=card_ts(number)
            )
        return number

    def reply(self, number: int, by: str = AGENT) -> None:
        """Someone writes in the case's thread (an agent's first reply is the first response)."""
        with self.db.unit_of_work() as session:
            case = self.cases.get(session, number)
            assert case.channel_id is not None
            self.cases.record_thread_message(
                session,
                event_id=None,
                channel_id=case.channel_id,
                thread_ts=card_ts(number),
                message_ts=f"{self.clock.now().timestamp():.6f}",
                user_id=by,
            )

    def claim(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.claim(session, number=number, actor=actor(by))

    def assign(self, number: int, to: str, *, by: str = MANAGER) -> None:
        with self.db.unit_of_work() as session:
            self.cases.assign(session, number=number, actor=actor(by), assignee_id=to)

    def escalate(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.escalate(session, number=number, actor=actor(by), reason="Needs engineering")

    def escalate_to(self, number: int, team: str, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.escalate(
                session, number=number, actor=actor(by), reason="Billing question", to_team_key=team
            )

    def pending(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.pending(session, number=number, actor=actor(by), reason="Waiting for logs")

    def resume(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.resume(session, number=number, actor=actor(by))

    def close(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.close(session, number=number, actor=actor(by), resolution="Fixed")

    def reopen(self, number: int, by: str = REQUESTER) -> None:
        with self.db.unit_of_work() as session:
            self.cases.reopen(session, number=number, actor=actor(by), reason="Still broken")

    def set_priority(self, number: int, priority: str, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.set_priority(session, number=number, actor=actor(by), priority=priority)

    def survey(self, number: int) -> bool:
        """The survey the close flow sends; returns whether it was queued."""
        with self.db.unit_of_work() as session:
            case = self.cases.get(session, number)
            return CsatService(self.cases).ask_after_close(session, case) is not None

    def rate(self, number: int, rating: int, by: str = REQUESTER) -> None:
        with self.db.unit_of_work() as session:
            CsatService(self.cases).rate(session, number=number, actor=actor(by), rating=rating)

    def kpis(
        self,
        start: datetime = MONDAY,
        end: datetime = TUESDAY,
        *,
        team: str = "support",
        followed_until: datetime | None = None,
    ) -> metrics.TeamKpis:
        with self.db.read_only() as session:
            return metrics.team_kpis(
                session, team_key=team, start=start, end=end, followed_until=followed_until
            )

    def backlog(self, at: datetime, team: str = "support") -> dict[tuple[str, str], int]:
        with self.db.read_only() as session:
            return metrics.backlog(session, team_key=team, at=at)


@pytest.fixture
def history(database: Database, cases: CaseService, clock: ManualClock) -> History:
    return History(database, cases, clock)


def case_ids(found: list[Case]) -> list[int]:
    return [case.id for case in found]


# Counts and rates


def test_counts_cases_opened_and_close_reopen_and_escalation_events_in_the_period(
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

    assert (kpis.opened, kpis.resolved, kpis.reopened, kpis.escalated) == (3, 3, 1, 1)
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


def test_sla_attainment_is_targets_met_of_those_completed_and_breaches_are_alerts(
    history: History, database: Database, cases: CaseService, roster: Roster, clock: ManualClock
) -> None:
    assert cases.sla is not None
    check = SlaCheck(
        db=database,
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
    history.reply(slow)  # 20 min: breached
    history.close(quick)  # resolution met (1 h)
    history.wait(2 * HOUR)
    check.run()  # the three cases still open breach their resolution
    history.close(late_close)  # resolution breached

    kpis = history.kpis()

    assert kpis.first_response_sla == metrics.Ratio(2, 3)  # the unanswered case is not measured
    assert kpis.resolution_sla == metrics.Ratio(1, 2)
    assert kpis.breaches == 5


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
    summaries = SummaryService(
        db=database,
        desk=desk,
        roster=Roster(desk, StaticDirectory({}), clock),
        policies=SlaPolicies(desk.sla, desk.calendars),
        clock=clock,
    )
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


# The chart's daily series


def test_daily_counts_give_each_day_its_openings_closes_and_sla_attainment(
    history: History, database: Database
) -> None:
    """Support: 15 min to respond, 1 h to resolve, round the clock. Monday: #1 answered and
    closed in time, #2 opened; Tuesday: #2 answered and closed a day late (both targets
    missed), #3 opened and closed by billing's team (another team's close)."""
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
    days = [(MONDAY + n * DAY, MONDAY + (n + 1) * DAY) for n in range(3)]

    with database.read_only() as session:
        series = metrics.daily_counts(session, team_key="support", days=days)

    assert series == [
        (2, 1, metrics.Ratio(2, 2)),
        (0, 1, metrics.Ratio(0, 2)),
        (0, 0, metrics.Ratio(0, 0)),
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
