"""Reading the desk configuration (`app.yaml`): defaults, routing and the forms values may take,
and every mistake an operator can make reported once with its key path, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from desk_config_helpers import BROKEN, BROKEN_PROBLEMS, EXAMPLE

from bot.desk import ConfigError, load_desk_config, parse_desk_config

VALID = """\
default_team: support
teams:
  support:
    name: Customer Support
    channel: C0SUPPORT
    agents: [U0AGENT1, S0SUPPORT]
    managers: [U0MANAGER]
    routes_from: [C0HELP]
  billing:
    name: Billing
    channel: C0BILLING
    agents: [U0BILLING1, U0BILLING2, W0BILLING3]
"""


def problems_in(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_desk_config(text, source="app.yaml")
    return raised.value.problems


# Reading a desk


def test_the_example_app_yaml_is_a_valid_desk() -> None:
    desk = load_desk_config(EXAMPLE)

    assert desk.default_team in desk.teams
    assert all(team.key == key for key, team in desk.teams.items())


def test_a_desk_gets_default_priority_labels_and_team_defaults() -> None:
    desk = parse_desk_config(VALID)

    assert desk.priorities == {"p1": "Urgent", "p2": "High", "p3": "Normal", "p4": "Low"}
    billing = desk.team("billing")
    assert (billing.key, billing.default_priority, billing.alerts_channel) == (
        "billing",
        "p3",
        "C0BILLING",
    )
    assert (billing.managers, billing.routes_from) == ([], [])


def test_priority_labels_may_be_written_plainly_or_with_a_label_key() -> None:
    desk = parse_desk_config(VALID + "priorities:\n  p1: {label: Fire}\n  p4: Someday\n")

    assert desk.priorities == {"p1": "Fire", "p2": "High", "p3": "Normal", "p4": "Someday"}


@pytest.mark.parametrize("written", ["10:00", '"10:00"', "'10:00'"])
def test_a_summary_time_may_be_written_with_or_without_quotes(written: str) -> None:
    desk = parse_desk_config(VALID + f"summary: {{daily_at: {written}, weekly_on: fri}}\n")

    assert (desk.summary.daily_at, desk.summary.weekly_on) == ("10:00", "fri")


@pytest.mark.parametrize(
    ("channel", "team"),
    [("C0SUPPORT", "support"), ("C0HELP", "support"), ("C0BILLING", "billing"), (None, "support"),
     ("C0RANDOM", "support")],
)  # fmt: skip
def test_a_channel_routes_to_its_team_or_else_the_default_team(
    channel: str | None, team: str
) -> None:
    assert parse_desk_config(VALID).team_for_channel(channel).key == team


# Problems, each with its key path


def test_a_broken_file_lists_every_problem_with_its_key_path() -> None:
    problems = problems_in(BROKEN)

    assert sorted(problems) == sorted(BROKEN_PROBLEMS)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("[U0BILLING1, U0BILLING2, W0BILLING3]", "[U0BILLING1, U0BILLING2, bob]"),
         "teams.billing.agents[2]: 'bob' is not a Slack user or usergroup ID (U…, W… or S…)"),
        (("managers: [U0MANAGER]", "managers: [C0MANAGER]"),
         "teams.support.managers[0]: 'C0MANAGER' is not a Slack user or usergroup ID "
         "(U…, W… or S…)"),
        (("    channel: C0BILLING", "    channel: C0BILLING\n    colour: blue"),
         "teams.billing.colour: unknown key (check the spelling)"),
        (("default_team: support", "default_team: support\nescalations: true"),
         "escalations: unknown key (check the spelling)"),
        (("    channel: C0BILLING", "    channel: billing"),
         "teams.billing.channel: 'billing' is not a Slack channel ID (C… or G…)"),
        (("    name: Billing\n", ""), "teams.billing.name: is required"),
        (("default_team: support", "default_team: sales"),
         "default_team: 'sales' is not one of the teams"),
        (("default_team: support\n", ""), "default_team: is required"),
        (("  billing:", "  Billing:"),
         "teams.Billing: a team key must be lower-case letters, digits, '-' or '_' and start "
         "with a letter"),
        (("    agents: [U0BILLING1, U0BILLING2, W0BILLING3]", "    agents: []"),
         "teams.billing: a team needs at least one agent or manager"),
        (("    channel: C0BILLING", "    channel: C0BILLING\n    routes_from: [C0X, C0HELP]"),
         "teams.billing.routes_from[1]: C0HELP already routes to team 'support'"),
        (("    channel: C0BILLING", "    channel: C0BILLING\n    default_priority: urgent"),
         "teams.billing.default_priority: 'urgent' is not a priority (p1, p2, p3 or p4)"),
        (("default_team: support", "default_team: support\npriorities: {p0: Now}"),
         "priorities: unknown priority 'p0'; use p1, p2, p3 and p4"),
    ],
    ids=["agent-id", "manager-id", "unknown-team-key", "unknown-top-key", "channel-id",
         "missing-name", "unknown-default-team", "missing-default-team", "team-key", "no-people",
         "duplicate-route", "bad-default-priority", "bad-priority-key"],
)  # fmt: skip
def test_each_mistake_is_reported_once_with_its_key_path(
    change: tuple[str, str], problem: str
) -> None:
    old, new = change
    assert old in VALID

    assert problems_in(VALID.replace(old, new, 1)) == [problem]


def test_a_desk_without_teams_is_refused() -> None:
    assert problems_in("default_team: support\nteams: {}\n") == [
        "teams: at least one team is needed"
    ]
    assert problems_in("default_team: support\n") == ["teams: is required"]


@pytest.mark.parametrize("text", ["", "just a sentence", "- support\n- billing\n"])
def test_a_file_that_is_not_a_mapping_says_what_it_must_be(text: str) -> None:
    assert problems_in(text) == ["the file must be a mapping with `teams:` and `default_team:`"]


def test_invalid_yaml_reports_the_line_and_column() -> None:
    text = VALID.replace("    routes_from: [C0HELP]", "    routes_from: [C0HELP")

    (problem,) = problems_in(text)

    assert problem == "line 9, column 10: invalid YAML: expected ',' or ']', but got ':'"


def test_a_tab_in_the_indentation_reports_where_it_is() -> None:
    (problem,) = problems_in(VALID.replace("    name: Billing", "\tname: Billing"))

    assert (
        problem
        == "line 10, column 1: invalid YAML: found character '\\t' that cannot start any token"
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("default_team: support", "default_team: [support]"), "default_team"),
        (("routes_from: [C0HELP]", "routes_from: [{id: C0HELP}]"), "teams.support.routes_from[0]"),
        (("routes_from: [C0HELP]", "routes_from: C0HELP"), "teams.support.routes_from"),
        (("    name: Billing", "    name: [Billing]"), "teams.billing.name"),
    ],
)
def test_values_of_the_wrong_shape_are_reported_not_crashed_on(
    change: tuple[str, str], path: str
) -> None:
    problems = problems_in(VALID.replace(*change, 1))

    assert any(problem.startswith(f"{path}: ") for problem in problems), problems


def test_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_desk_config(tmp_path / "nowhere.yaml")

    assert raised.value.problems == ["cannot read the file: No such file or directory"]
    assert raised.value.source == str(tmp_path / "nowhere.yaml")


def test_a_file_that_is_not_utf8_is_reported_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_bytes(VALID.replace("Billing", "Facturaci\xf3n").encode("latin-1"))

    with pytest.raises(ConfigError) as raised:
        load_desk_config(path)

    assert len(raised.value.problems) == 1
