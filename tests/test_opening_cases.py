"""The case rules (`CaseService`), opening a case: it starts open and unassigned in the team its
channel routes to, an explicit team and priority win, and a missing title or an unknown team or
priority is refused. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from case_rules_helpers import (
    NO_TEAM_MESSAGE,
    Desk,
    Row,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)
from conftest import BILLING_CHANNEL, HELP_CHANNEL, REQUESTER, START, SUPPORT_CHANNEL

from bot.refusals import BadInput

# Opening


def test_a_new_case_is_open_unassigned_and_recorded_with_its_team_and_priority(
    desk: Desk,
) -> None:
    number = desk.open("Printer on fire")

    case = desk.case(number)
    assert (number, case.status, case.assignee_id, case.team_key) == (1, "open", None, "support")
    assert (case.priority, case.opened_at, case.last_activity_at) == ("p3", START, START)
    assert desk.trail() == [Row(START, REQUESTER, "opened", to_value="open")]
    assert desk.events()[0].details == {"team": "support", "priority": "p3"}


@pytest.mark.parametrize(
    ("channel", "team", "priority"),
    [
        (SUPPORT_CHANNEL, "support", "p3"),
        (HELP_CHANNEL, "support", "p3"),
        (BILLING_CHANNEL, "billing", "p2"),
        ("C0INVOICES", "billing", "p2"),
        ("C0ELSEWHERE", "support", "p3"),
    ],
)
def test_a_case_lands_in_the_team_its_channel_routes_to_with_that_teams_default_priority(
    desk: Desk, channel: str, team: str, priority: str
) -> None:
    case = desk.case(desk.open(channel_id=channel))

    assert (case.team_key, case.priority, case.origin_channel_id) == (team, priority, channel)


def test_an_explicit_team_and_priority_win_over_the_channel(desk: Desk) -> None:
    case = desk.case(desk.open(team_key="billing", priority="p1", channel_id=HELP_CHANNEL))

    assert (case.team_key, case.priority) == ("billing", "p1")


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_a_case_without_a_title_is_refused(desk: Desk, title: str) -> None:
    message = refused(BadInput, lambda: desk.open(title))

    assert message == "A case needs a title: `/case open [p1-p4] [team:<key>] <title>`."


def test_opening_for_an_unknown_team_is_refused_and_lists_the_teams(desk: Desk) -> None:
    assert refused(BadInput, lambda: desk.open(team_key="sales")) == NO_TEAM_MESSAGE


def test_opening_with_an_unknown_priority_is_refused(desk: Desk) -> None:
    message = refused(BadInput, lambda: desk.open(priority="p9"))

    assert message == "`p9` is not a priority; use p1, p2, p3 or p4."
