"""The summary's per-agent table also counts, per agent, the cases given to them in the
period (by a manager, a hand-over or the team's round robin), of which automatically, and the
cases that left them (handed on or put back in the queue). Support assigns round robin and
its days are UTC's."""

from __future__ import annotations

import pytest
from conftest import MANAGER, REQUESTER, START, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import DAY, HOUR, MINUTE, Json, run_job
from routing_helpers import ANA, BEN, CY
from slack_driver import SlackDriver
from summaries_helpers import only_summary, section_texts

from bot import metrics
from bot.clock import ManualClock
from bot.desk import DeskConfig, parse_desk_config
from bot.metrics.views import FOOTNOTE
from bot.runtime.casedesk import Casedesk

DESK = f"""
default_team: support
teams:
  support:
    name: Customer Support
    channel: {SUPPORT_CHANNEL}
    agents: [{ANA}, {BEN}, {CY}]
    managers: [{MANAGER}]
    assignment: {{mode: round_robin}}
summary:
  daily_at: "09:00"
  chart: false
"""


@pytest.fixture
def desk_config() -> DeskConfig:
    return parse_desk_config(DESK, source="routed summary desk")


@pytest.fixture
def monday(slack: SlackDriver, clock: ManualClock) -> SlackDriver:
    """Monday: four cases go round robin to Ana, Ben, Cy and Ana; the manager hands Ben's #2
    to Cy, Ana puts #4 back in the queue and Ben claims it."""
    clock.set(START)
    for n in range(1, 5):
        slack.command(REQUESTER, f"open Printer {n}")
    clock.advance(10 * MINUTE)
    slack.command(MANAGER, f"assign 2 <@{CY}>")
    slack.command(ANA, "unassign 4")
    slack.command(BEN, "claim 4")
    clock.advance(MINUTE)
    return slack


def assignments(summary: Json) -> list[str]:
    found = [text for text in section_texts(summary) if text.startswith("*Assignments per")]
    assert found, f"no assignments in {section_texts(summary)}"
    return found[0].splitlines()


def test_the_summary_counts_cases_assigned_automatically_by_hand_and_reassigned_away(
    monday: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(START + DAY)  # Tuesday 09:00 UTC
    run_job(casedesk, "daily-summary")

    summary = only_summary(fake_slack)

    # In the per-agent table's order: most handled (Ben claimed #4, the manager assigned #2),
    # then most open now (Cy holds #2 and #3, Ana #1).
    assert assignments(summary) == [
        "*Assignments per agent*",
        f"• <@{BEN}>: assigned 1 (1 automatically) · reassigned away 1",
        f"• <@{MANAGER}>: assigned 0 (0 automatically) · reassigned away 0",
        f"• <@{CY}>: assigned 2 (1 automatically) · reassigned away 0",
        f"• <@{ANA}>: assigned 2 (2 automatically) · reassigned away 1",
    ]
    per_agent = next(text for text in section_texts(summary) if text.startswith("*Per agent*"))
    assert per_agent.splitlines()[1] == (
        f"• <@{BEN}>: handled 1 · resolved 0 · median first response no data · open now 1"
    )
    assert fake_slack.calls
    assert not [call for call in fake_slack.calls if call.error]


def test_the_figures_are_the_periods_only(
    monday: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(START + DAY)
    monday.command(MANAGER, f"assign 1 <@{BEN}>")  # Tuesday: Ana's #1 goes to Ben
    midnight = START - 9 * HOUR

    with casedesk.db.read_only() as session:
        mondays, tuesdays = (
            metrics.agent_table(
                session, team_key="support", agents=[ANA, BEN, CY], start=day, end=day + DAY
            )
            for day in (midnight, midnight + DAY)
        )

    def figures(rows: list[metrics.AgentRow]) -> dict[str, tuple[int, int, int]]:
        return {
            row.agent_id: (row.assigned, row.auto_assigned, row.reassigned_away) for row in rows
        }

    assert figures(mondays) == {ANA: (2, 2, 1), BEN: (1, 1, 1), CY: (2, 1, 0)}
    assert figures(tuesdays) == {ANA: (0, 0, 1), BEN: (1, 0, 0), CY: (0, 0, 0)}


def test_stats_shows_the_assignments_too(monday: SlackDriver) -> None:
    [reply] = monday.command(MANAGER, "stats today").responses
    sections = section_texts(reply)

    shown = next(text for text in sections if text.startswith("*Assignments per agent*"))
    assert f"• <@{ANA}>: assigned 2 (2 automatically) · reassigned away 1" in shown.splitlines()


def test_a_day_of_claims_only_shows_no_assignments(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    clock.set(START)
    slack.command(ANA, "away")
    slack.command(BEN, "away")
    slack.command(CY, "away")
    slack.command(REQUESTER, "open Printer on fire")  # nobody available: it waits
    slack.command(BEN, "claim 1")
    clock.advance(MINUTE)

    [reply] = slack.command(MANAGER, "stats today").responses
    sections = section_texts(reply)

    assert any(text.startswith("*Per agent*") for text in sections)
    assert not any(text.startswith("*Assignments per agent*") for text in sections)


def test_the_footnote_says_what_assigned_and_reassigned_away_count() -> None:
    assert "Per agent, assigned: cases given to the agent in the period" in FOOTNOTE
    assert "(a claim is handled, not assigned)" in FOOTNOTE
    assert "reassigned away: cases that left them, handed on or put back in the queue" in FOOTNOTE
