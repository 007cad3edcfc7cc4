"""Worked examples: two support days in Madrid whose figures were counted by hand, read back as
the KPIs, the daily summary, `/case stats`, the export and the chart's series give them.

Support works round the clock with a first response due within 1 hour and a resolution within
8 hours; its days are Madrid's (`timezone: Europe/Madrid`, UTC+1 in November), though its SLA
calendar has no time zone. Monday 23 November, in Madrid:

    #1 opened 00:30 (still Sunday in UTC), answered 00:50, closed 01:30.
    #2 opened 10:00, answered 10:30, pending from 11:00 (1 h of its 8 used, within budget).
    #3 opened 11:00, answered 13:00: its first response came due at 12:00, missed. Closed 14:00.
    #4 opened 12:00, answered 12:10, closed 12:30, reopened 13:00, closed again 14:00.
    #5 opened 13:00, claimed by one agent, reassigned to another at 13:30, who answered at
       13:40 and closed it at 15:00.
    #6 opened 16:00, never answered: its first response comes due at 17:00 (missed then), its
       resolution at midnight, the first moment of Tuesday.

Tuesday: #7 opened 00:15 (still Monday in UTC), answered 00:30, closed 01:00; #2 resumed at
09:00 and closed at 10:00 (2 h used: met); #6 answered at 09:30 (late, and already counted as
missed on Monday) and closed at 11:00.

By hand, for Monday: 6 new; resolved 4 cases (#1, #3, #4, #5; #4 closed twice is one); 1
reopened. SLA first response: 4 of 6 targets met (#3 and #6 missed: 67%); SLA resolution: 4 of
4 (#2 is paused within its budget, #6 is due on Tuesday); SLA breaches: the 2 targets missed,
though no alert was ever sent. First response times 10, 20, 30, 40 and 120 min; resolution
times of the 4 closed: 60, 90, 120 and 180 min. First-contact resolution: #1 and #3 of the 4
(#4 was reopened, #5 reassigned); reopen rate 1 of 4. For Tuesday: 1 new, 3 resolved (#2, #6,
#7), SLA first response 1 of 1 (#7), SLA resolution 2 of 3 (#6 missed at midnight).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from conftest import AGENT, AGENT_2, MANAGER, REQUESTER, sla_desk_yaml
from fake_slack import FakeSlack
from helpers import DAY, MINUTE, run_job
from metrics_helpers import History, history_fixture  # noqa: F401  (the history fixture)
from slack_driver import SlackDriver
from summaries_helpers import kpis_as_shown, only_summary, section_texts

from bot import metrics
from bot.desk import DeskConfig, parse_desk_config
from bot.metrics.views import FOOTNOTE
from bot.runtime.casedesk import Casedesk

DESK = """
sla:
  teams:
    support:
      default: {first_response: 1h, resolution: 8h, calendar: 24x7}
summary: {chart: false}
"""

# Monday and Tuesday in Madrid, as UTC instants.
MONDAY = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
TUESDAY = MONDAY + DAY
WEDNESDAY = TUESDAY + DAY


def madrid(day: datetime, hours: int, minutes: int = 0) -> datetime:
    """`hours:minutes` on the Madrid day that starts at `day`."""
    return day + hours * 60 * MINUTE + minutes * MINUTE


@pytest.fixture(name="desk_config")
def desk_config_fixture() -> DeskConfig:
    data = yaml.safe_load(sla_desk_yaml(DESK))
    data["teams"]["support"]["timezone"] = "Europe/Madrid"
    return parse_desk_config(yaml.safe_dump(data), source="worked examples desk")


@pytest.fixture
def monday(history: History) -> History:
    """Monday in Madrid up to 16:00, when #6 is opened (see the module's docstring)."""
    history.at(madrid(MONDAY, 0, 30))
    one = history.open("Printer on fire")
    history.claim(one)
    history.at(madrid(MONDAY, 0, 50))
    history.reply(one)
    history.at(madrid(MONDAY, 1, 30))
    history.close(one)
    history.at(madrid(MONDAY, 10))
    two = history.open("VPN down")
    history.claim(two)
    history.at(madrid(MONDAY, 10, 30))
    history.reply(two)
    history.at(madrid(MONDAY, 11))
    history.pending(two)
    three = history.open("Cannot log in")
    history.claim(three)
    history.at(madrid(MONDAY, 12))
    four = history.open("Invoice missing")
    history.claim(four)
    history.at(madrid(MONDAY, 12, 10))
    history.reply(four)
    history.at(madrid(MONDAY, 12, 30))
    history.close(four)
    history.at(madrid(MONDAY, 13))
    history.reopen(four)
    history.reply(three)  # two hours after opening: an hour late
    five = history.open("Laptop will not boot")
    history.claim(five)
    history.at(madrid(MONDAY, 13, 30))
    history.assign(five, AGENT_2)
    history.at(madrid(MONDAY, 13, 40))
    history.reply(five, by=AGENT_2)
    history.at(madrid(MONDAY, 14))
    history.close(three)
    history.close(four)  # the second close of #4
    history.at(madrid(MONDAY, 15))
    history.close(five, by=AGENT_2)
    history.at(madrid(MONDAY, 16))
    history.open("Nobody answers this one")
    return history


@pytest.fixture
def tuesday_night(monday: History) -> History:
    """#7, opened, answered and closed in Tuesday's first hour; then 09:00 in Madrid."""
    monday.at(madrid(TUESDAY, 0, 15))
    seven = monday.open("Password reset")
    monday.claim(seven)
    monday.at(madrid(TUESDAY, 0, 30))
    monday.reply(seven)
    monday.at(madrid(TUESDAY, 1))
    monday.close(seven)
    monday.at(madrid(TUESDAY, 9))
    return monday


@pytest.fixture
def tuesday(tuesday_night: History) -> History:
    """Tuesday morning: #2 resumed and closed, #6 answered late and closed; then noon."""
    history = tuesday_night
    history.resume(2, by=REQUESTER)
    history.at(madrid(TUESDAY, 9, 30))
    history.reply(6)
    history.at(madrid(TUESDAY, 10))
    history.close(2)
    history.at(madrid(TUESDAY, 11))
    history.close(6)
    history.at(madrid(TUESDAY, 12))
    return history


# The KPIs


def test_mondays_kpis_are_the_ones_counted_by_hand(tuesday_night: History) -> None:
    kpis = tuesday_night.kpis(MONDAY, TUESDAY)

    assert (kpis.opened, kpis.resolved, kpis.reopened, kpis.escalated) == (6, 4, 1, 0)
    assert kpis.first_response_sla == metrics.Ratio(4, 6)
    assert kpis.resolution_sla == metrics.Ratio(4, 4)
    assert kpis.breaches == 2
    assert kpis.first_response == metrics.Spread(median=30 * 60.0, p90=88 * 60.0, count=5)
    assert kpis.resolution == metrics.Spread(median=105 * 60.0, p90=162 * 60.0, count=4)
    assert kpis.first_contact_resolution == metrics.Ratio(2, 4)
    assert kpis.reopen_rate == metrics.Ratio(1, 4)
    assert kpis.escalation_rate == metrics.Ratio(0, 6)


def test_a_target_due_later_today_is_no_miss_until_its_due_time_has_passed(
    monday: History,
) -> None:
    monday.at(madrid(MONDAY, 16, 30))
    at_half_past_four = monday.kpis(MONDAY, TUESDAY)
    monday.at(madrid(MONDAY, 17))
    at_five = monday.kpis(MONDAY, TUESDAY)
    monday.at(madrid(MONDAY, 17, 1))
    after_five = monday.kpis(MONDAY, TUESDAY)

    assert (at_half_past_four.first_response_sla, at_half_past_four.breaches) == (
        metrics.Ratio(4, 5),
        1,
    )
    assert (at_five.first_response_sla, at_five.breaches) == (metrics.Ratio(4, 5), 1)
    assert (after_five.first_response_sla, after_five.breaches) == (metrics.Ratio(4, 6), 2)


def test_a_late_answer_is_not_counted_again_and_a_paused_target_counts_when_it_settles(
    tuesday: History,
) -> None:
    mondays, tuesdays = tuesday.kpis(MONDAY, TUESDAY), tuesday.kpis(TUESDAY, WEDNESDAY)

    assert (mondays.first_response_sla, mondays.resolution_sla, mondays.breaches) == (
        metrics.Ratio(4, 6),
        metrics.Ratio(4, 4),
        2,
    )
    assert (tuesdays.opened, tuesdays.resolved) == (1, 3)
    assert tuesdays.first_response_sla == metrics.Ratio(1, 1)  # #7; #6's late answer is not
    assert tuesdays.resolution_sla == metrics.Ratio(2, 3)  # #2 and #7 met, #6 missed
    assert tuesdays.breaches == 1


def test_the_per_agent_table_counts_the_cases_each_agent_resolved(
    tuesday_night: History,
) -> None:
    with tuesday_night.db.read_only() as session:
        rows = metrics.agent_table(
            session,
            team_key="support",
            agents=[AGENT, AGENT_2, MANAGER],
            start=MONDAY,
            end=TUESDAY,
        )

    assert [(row.agent_id, row.handled, row.resolved, row.open_now) for row in rows] == [
        (AGENT, 5, 3, 1),  # #4, closed twice by the agent, is one case resolved
        (AGENT_2, 1, 1, 0),
        (MANAGER, 1, 0, 0),
    ]


# What people read


def test_mondays_summary_says_what_was_counted_by_hand_at_nine_in_madrid(
    tuesday_night: History, casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    run_job(casedesk, "daily-summary")  # 09:00 in Madrid

    summary = only_summary(fake_slack)

    assert summary["text"] == (
        "Customer Support: daily summary for Mon 23 Nov 2026: 6 new, 4 resolved, 2 in backlog"
    )
    shown = {
        "New": "6 ▲6 · 7-day avg 0.0",
        "Resolved": "4 ▲4 · 7-day avg 0.0",
        "Reopened": "1 ▲1 · 7-day avg 0.0",
        "SLA first response": "67% (4/6)",
        "SLA resolution": "100% (4/4)",
        "SLA breaches": "2 ▲2 · 7-day avg 0.0",
        "First response": "median 30 min · p90 1 h 28 min",
        "Resolution time": "median 1 h 45 min · p90 2 h 42 min",
        "First-contact resolution": "50% (2/4)",
        "Reopen rate": "25% (1/4)",
    }
    assert kpis_as_shown(summary, shown) == shown
    agents = next(text for text in section_texts(summary) if text.startswith("*Per agent*"))
    assert agents.splitlines()[1:] == [
        f"• <@{AGENT}>: handled 5 · resolved 3 · median first response 25 min · open now 1",
        f"• <@{AGENT_2}>: handled 1 · resolved 1 · median first response 40 min · open now 0",
        f"• <@{MANAGER}>: handled 1 · resolved 0 · median first response no data · open now 0",
    ]


def test_the_summary_footnote_defines_resolved_attainment_and_breaches() -> None:
    assert "Resolved: cases closed at least once in the period" in FOOTNOTE
    assert "a target counts when it was met or came due, whichever was first" in FOOTNOTE
    assert "SLA breaches: the targets missed in the period, alerted or not" in FOOTNOTE
    assert "Days are the team's time zone's" in FOOTNOTE


def test_stats_today_counts_madrids_day_with_the_targets_due_so_far(
    monday: History, slack: SlackDriver
) -> None:
    monday.at(madrid(MONDAY, 16, 30))

    [reply] = slack.command(AGENT, "stats today").responses

    shown = {
        "New": "6 ▲6",  # #1, opened at 00:30 in Madrid, is today's
        "Resolved": "4 ▲4",
        "SLA first response": "80% (4/5)",  # #6 is due at 17:00
        "SLA breaches": "1 ▲1",
    }
    assert kpis_as_shown(reply, shown) == shown


def test_app_home_shows_a_manager_todays_attainment_with_the_targets_due_so_far(
    monday: History, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    monday.at(madrid(MONDAY, 17, 30))

    slack.event({"type": "app_home_opened", "user": MANAGER, "channel": "D0HOME", "tab": "home"})
    home = fake_slack.home_views[MANAGER]

    shown = {
        "SLA first response": "67% (4/6)",  # #6 came due at 17:00
        "SLA breaches": "2 ▲2",
        "Resolved": "4 ▲4",
    }
    assert kpis_as_shown(home, shown) == shown


def test_the_export_gives_each_case_its_sla_outcome_and_when_it_counted(
    tuesday_night: History,
) -> None:
    now = tuesday_night.clock.now()
    with tuesday_night.db.read_only() as session:
        records = list(
            metrics.case_records(session, team_key="support", start=MONDAY, end=TUESDAY, now=now)
        )

    assert [
        (
            r["case"],
            r["first_response_breached"],
            r["first_response_settled_at"],
            r["resolution_breached"],
            r["resolution_settled_at"],
        )
        for r in records
    ] == [
        (1, False, madrid(MONDAY, 0, 50), False, madrid(MONDAY, 1, 30)),
        (2, False, madrid(MONDAY, 10, 30), None, None),  # pending within its budget
        (3, True, madrid(MONDAY, 12), False, madrid(MONDAY, 14)),
        (4, False, madrid(MONDAY, 12, 10), False, madrid(MONDAY, 14)),
        (5, False, madrid(MONDAY, 13, 40), False, madrid(MONDAY, 15)),
        (6, True, madrid(MONDAY, 17), True, TUESDAY),  # both still running past due
    ]


def test_the_charts_daily_series_counts_as_the_summary_does(tuesday: History) -> None:
    with tuesday.db.read_only() as session:
        series = metrics.daily_counts(
            session,
            team_key="support",
            days=[(MONDAY, TUESDAY), (TUESDAY, WEDNESDAY)],
            until=tuesday.clock.now(),
        )

    assert series == [(6, 4, metrics.Ratio(8, 10)), (1, 3, metrics.Ratio(3, 4))]
