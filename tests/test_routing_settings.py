"""`teams.<key>.assignment` in app.yaml: how new cases find their agent."""

from __future__ import annotations

from datetime import timedelta

from conftest import DESK_YAML
from desk_config_helpers import problems_in, support_with

from bot.desk import parse_desk_config


def with_assignment(settings: str) -> str:
    return support_with("assignment", settings)


def test_a_team_assigns_nothing_by_itself_unless_asked() -> None:
    assignment = parse_desk_config(DESK_YAML).team("support").assignment

    assert (assignment.mode, assignment.max_open, assignment.reassign_after) == (
        "manual",
        None,
        None,
    )


def test_round_robin_with_a_cap_and_a_reassignment_time_is_read() -> None:
    assignment = (
        parse_desk_config(with_assignment("mode: round_robin, max_open: 5, reassign_after: 2h"))
        .team("support")
        .assignment
    )

    assert (assignment.mode, assignment.max_open, assignment.reassign_after) == (
        "round_robin",
        5,
        timedelta(hours=2),
    )


def test_an_unknown_mode_or_a_cap_below_one_is_named_by_its_key() -> None:
    problems = problems_in(with_assignment("mode: random, max_open: 0"))

    assert any(p.startswith("teams.support.assignment.mode:") for p in problems), problems
    assert any(p.startswith("teams.support.assignment.max_open:") for p in problems), problems
