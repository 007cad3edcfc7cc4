"""The list views (`list_cases`): each view's cases, newest activity first, narrowed by team,
ten a page, and an unknown view or team refused. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from case_rules_helpers import (
    NO_TEAM_MESSAGE,
    Desk,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)
from conftest import AGENT, AGENT_2, OUTSIDER
from helpers import MINUTE

from bot.refusals import BadInput

# List views


@pytest.fixture
def six_cases(desk: Desk) -> Desk:
    """#1 open, #2 AGENT's, #3 AGENT's pending, #4 AGENT_2's escalated, #5 closed, #6 billing
    open; each touched a minute after the one before, so #6 has the newest activity."""
    steps: list[Callable[[int], object]] = [
        lambda n: None,
        lambda n: desk.claim(n, by=AGENT),
        lambda n: (desk.claim(n, by=AGENT), desk.pending(n)),
        lambda n: (desk.claim(n, by=AGENT_2), desk.escalate(n, by=AGENT_2)),
        lambda n: desk.close(n),
        lambda n: None,
    ]
    for index, step in enumerate(steps):
        desk.clock.advance(MINUTE)
        step(desk.open(f"Case {index + 1}", team_key="billing" if index == 5 else None))
    return desk


@pytest.mark.parametrize(
    ("view", "user", "numbers"),
    [
        ("open", AGENT, [6, 4, 3, 2, 1]),
        ("mine", AGENT, [3, 2]),
        ("mine", AGENT_2, [4]),
        ("mine", OUTSIDER, []),
        ("unassigned", AGENT, [6, 1]),
        ("escalated", AGENT, [4]),
        ("pending", AGENT, [3]),
        ("closed", AGENT, [5]),
    ],
)
def test_each_list_view_shows_its_cases_newest_activity_first(
    six_cases: Desk, view: str, user: str, numbers: list[int]
) -> None:
    assert six_cases.listed(view, user=user) == numbers


@pytest.mark.parametrize(
    ("view", "team", "numbers"),
    [("open", "support", [4, 3, 2, 1]), ("open", "billing", [6]), ("unassigned", "billing", [6])],
)
def test_a_team_filter_narrows_a_list_to_that_team(
    six_cases: Desk, view: str, team: str, numbers: list[int]
) -> None:
    assert six_cases.listed(view, team_key=team) == numbers


def test_activity_on_an_old_case_brings_it_to_the_top(desk: Desk) -> None:
    for n in range(3):
        desk.clock.advance(MINUTE)
        desk.open(f"Case {n + 1}")
    desk.clock.advance(MINUTE)
    desk.claim(1)

    assert desk.listed("open") == [1, 3, 2]


@pytest.mark.parametrize(
    ("count", "first_page", "second_page"),
    [(10, (10, False), None), (11, (10, True), (1, False)), (21, (10, True), (10, True))],
)
def test_lists_come_ten_a_page_and_say_when_there_are_more(
    desk: Desk,
    count: int,
    first_page: tuple[int, bool],
    second_page: tuple[int, bool] | None,
) -> None:
    for n in range(count):
        desk.clock.advance(MINUTE)
        desk.open(f"Case {n + 1}")

    page = desk.page("open")
    assert (len(page.cases), page.has_more) == first_page
    assert page.cases[0].id == count
    if second_page:
        following = desk.page("open", offset=10)
        assert (len(following.cases), following.has_more, following.offset) == (*second_page, 10)
        assert following.cases[0].id == count - 10


def test_an_unknown_list_view_or_team_is_refused(desk: Desk) -> None:
    view_message = refused(BadInput, lambda: desk.listed("everything"))
    team_message = refused(BadInput, lambda: desk.listed("open", team_key="sales"))

    assert view_message == (
        "`everything` is not a list; use one of: open, mine, unassigned, escalated, pending, "
        "closed."
    )
    assert team_message == NO_TEAM_MESSAGE
