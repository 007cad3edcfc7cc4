"""The case rules (`CaseService`), escalation: the level rises one step at a time, and
escalating to another team moves the case, keeping its assignee only if they work there too.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from case_rules_helpers import (
    CARD_TS,
    NO_TEAM_MESSAGE,
    Desk,
    Row,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_AGENT,
    DESK_YAML,
    MANAGER,
    REQUESTER,
    SUPPORT_CHANNEL,
    StaticDirectory,
)
from helpers import MINUTE

from bot.cases.rules import CaseService
from bot.clock import ManualClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.refusals import BadInput, NotAllowed
from bot.roster import Roster
from bot.sla.policies import SlaPolicies
from bot.sla.timers import SlaTracker

# Escalation


def test_escalating_raises_the_level_one_step_at_a_time(desk: Desk) -> None:
    desk.open()
    first = desk.clock.advance(MINUTE)
    desk.escalate(reason="Key account", by=AGENT)
    second = desk.clock.advance(MINUTE)
    desk.escalate(reason="Still down", by=MANAGER)

    case = desk.case()
    assert (case.escalation_level, case.last_escalated_at, case.team_key) == (2, second, "support")
    assert desk.trail()[1:] == [
        Row(first, AGENT, "escalated", from_value="0", to_value="1"),
        Row(second, MANAGER, "escalated", from_value="1", to_value="2"),
    ]
    assert desk.events()[1].details == {"reason": "Key account", "from_team": "support"}


def test_escalating_to_the_same_team_does_not_move_the_case(desk: Desk) -> None:
    desk.open()
    desk.attach_card()
    change = desk.escalate(to="support")

    assert (change.moved_from, desk.case().channel_id) == (None, SUPPORT_CHANNEL)
    assert desk.actions() == ["opened", "escalated"]


def test_escalating_to_another_team_moves_the_case_and_releases_an_assignee_not_on_it(
    desk: Desk,
) -> None:
    desk.open()
    desk.attach_card()
    desk.claim(by=AGENT)
    at = desk.clock.advance(MINUTE)
    change = desk.escalate(reason="Refund needed", to="billing", by=AGENT)

    case = desk.case()
    assert (case.team_key, case.escalation_level, case.status) == ("billing", 1, "open")
    assert (case.assignee_id, case.channel_id, case.card_ts) == (None, None, None)
    assert change.moved_from == (SUPPORT_CHANNEL, CARD_TS)
    assert desk.trail()[2:] == [
        Row(at, AGENT, "escalated", from_value="0", to_value="1"),
        Row(at, AGENT, "team_changed", from_value="support", to_value="billing"),
        Row(at, AGENT, "unassigned", from_value=AGENT, status_before="in_progress",
            status_after="open"),
    ]  # fmt: skip
    details = [event.details for event in desk.events()[2:]]
    assert details == [
        {"reason": "Refund needed", "from_team": "support", "to_team": "billing"},
        {},
        {"reason": "not an agent of Billing"},
    ]


def test_escalating_to_another_team_keeps_an_assignee_who_is_also_on_that_team(
    database: Database, clock: ManualClock
) -> None:
    shared = DESK_YAML.replace(f"agents: [{BILLING_AGENT}]", f"agents: [{BILLING_AGENT}, {AGENT}]")
    config = parse_desk_config(shared, source="shared agent")
    roster = Roster(config, StaticDirectory({"S0SUPPORT": [AGENT_2]}), clock)
    tracker = SlaTracker(SlaPolicies(config.sla, config.calendars))
    desk = Desk(database, CaseService(config, roster, clock, tracker), clock)
    desk.open()
    desk.claim(by=AGENT)
    desk.escalate(to="billing")

    case = desk.case()
    assert (case.team_key, case.assignee_id, case.status) == ("billing", AGENT, "in_progress")
    assert desk.actions() == ["opened", "claimed", "escalated", "team_changed"]


def test_after_moving_team_the_new_teams_agents_work_the_case_and_the_old_ones_cannot(
    desk: Desk,
) -> None:
    desk.open()
    desk.escalate(to="billing")

    message = refused(NotAllowed, lambda: desk.claim(by=AGENT))
    desk.claim(by=BILLING_AGENT)

    assert message == "Only agents and managers of Billing can claim cases."
    assert desk.case().assignee_id == BILLING_AGENT


def test_escalating_to_an_unknown_team_is_refused_and_lists_the_teams(desk: Desk) -> None:
    desk.open()

    assert refused(BadInput, lambda: desk.escalate(to="sales")) == NO_TEAM_MESSAGE
    assert desk.case().escalation_level == 0


def test_escalating_by_someone_who_is_not_an_agent_is_refused(desk: Desk) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.escalate(by=REQUESTER))

    assert message == "Only agents and managers of Customer Support can escalate cases."
