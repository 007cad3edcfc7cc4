"""The desk configuration (`app.yaml`) and the command line that checks it and starts the bot:
every mistake an operator can make ends in clear lines naming it and exit code 1, never a
traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO, run_bot

from bot import migrate
from bot.__main__ import main
from bot.db import Database
from bot.desk import ConfigError, load_desk_config, parse_desk_config

EXAMPLE = REPO / "app.yaml"

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

BROKEN = """\
default_team: sales
priorities: {p1: Urgent, p5: Whenever}
escalation: true
teams:
  support:
    name: Customer Support
    channel: support
    agent: [U0AGENT1]
    managers: [U0MANAGER]
    routes_from: [C0HELP]
    default_priority: p5
  billing:
    channel: C0BILLING
    agents: [U0BILLING1, U0BILLING2, bob]
    routes_from: [C0HELP]
"""

BROKEN_PROBLEMS = [
    "default_team: 'sales' is not one of the teams",
    "priorities: unknown priority 'p5'; use p1, p2, p3 and p4",
    "escalation: unknown key (check the spelling)",
    "teams.support.channel: 'support' is not a Slack channel ID (C… or G…)",
    "teams.support.agent: unknown key (check the spelling)",
    "teams.support.default_priority: 'p5' is not a priority (p1, p2, p3 or p4)",
    "teams.billing.name: is required",
    "teams.billing.agents[2]: 'bob' is not a Slack user or usergroup ID (U…, W… or S…)",
    "teams.billing.routes_from[0]: C0HELP already routes to team 'support'",
]


def problems_in(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_desk_config(text, source="app.yaml")
    return raised.value.problems


def write(folder: Path, text: str, name: str = "app.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def check_config(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    """Run `python -m bot check-config ...` in this process: exit code, stdout, stderr lines."""
    code = main(["check-config", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


@pytest.fixture
def operator_dir(tmp_path: Path) -> Path:
    """A working directory holding a copy of the example app.yaml and nothing else."""
    shutil.copy(EXAMPLE, tmp_path / "app.yaml")
    return tmp_path


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


# python -m bot check-config


def test_check_config_accepts_the_example_app_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check_config(capsys, str(EXAMPLE))

    assert (code, err) == (0, [])
    assert out.startswith(f"{EXAMPLE}: OK (")


def test_check_config_lists_every_problem_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, BROKEN)

    code, out, err = check_config(capsys, str(path))

    assert (code, out) == (1, "")
    assert err[0] == f"casedesk: {path} has {len(BROKEN_PROBLEMS)} problems:"
    assert sorted(err[1:]) == sorted(f"  {problem}" for problem in BROKEN_PROBLEMS)


def test_check_config_reports_invalid_yaml_with_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "default_team: support\nteams:\n  support: [C0X\n")

    code, _, err = check_config(capsys, str(path))

    assert code == 1
    assert len(err) == 1
    assert err[0].startswith(f"casedesk: {path}: line 4, column 1: invalid YAML: ")


def test_check_config_on_a_missing_file_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "nowhere.yaml"

    code, out, err = check_config(capsys, str(path))

    assert (code, out) == (1, "")
    assert len(err) == 1, err
    assert str(path) in err[0]
    assert "No such file or directory" in err[0]


def test_check_config_reads_support_config_when_no_path_is_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPPORT_CONFIG", str(write(tmp_path, BROKEN, "desk.yaml")))

    code, _, err = check_config(capsys)

    assert (code, err[0]) == (1, f"casedesk: {tmp_path / 'desk.yaml'} has 9 problems:")


def test_check_config_defaults_to_app_yaml_in_the_working_directory(
    capsys: pytest.CaptureFixture[str], operator_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(operator_dir)
    monkeypatch.delenv("SUPPORT_CONFIG", raising=False)

    code, out, _ = check_config(capsys)

    assert (code, out.split(":")[0]) == (0, "app.yaml")


@pytest.mark.parametrize(
    "content",
    [
        "default_team: [support]\nteams: {support: {name: S, channel: C0S, agents: [U0A]}}\n",
        "default_team: support\nteams: {support: {name: S, channel: C0S, agents: [U0A], "
        "routes_from: [{id: C0H}]}}\n",
        b"default_team: support\nteams: {support: {name: Caf\xe9, channel: C0S, agents: [U0A]}}\n",
        "",
        "teams: 3\n",
    ],
    ids=["list-as-default-team", "mapping-as-channel", "latin-1", "empty", "teams-a-number"],
)
def test_check_config_never_shows_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | bytes
) -> None:
    path = tmp_path / "app.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")

    code, out, err = check_config(capsys, str(path))

    assert (code, out) == (1, "")
    assert err[0].startswith(f"casedesk: {path}")
    assert not any("Traceback" in line for line in err)


def test_check_config_on_a_folder_is_refused_cleanly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = check_config(capsys, str(tmp_path))

    assert code == 1
    assert "cannot read the file: Is a directory" in "\n".join(err)


def test_check_config_as_a_program_accepts_the_example_and_refuses_a_broken_file(
    operator_dir: Path,
) -> None:
    write(operator_dir, BROKEN, "broken.yaml")

    good = run_bot("check-config", "app.yaml", cwd=operator_dir)
    bad = run_bot("check-config", "broken.yaml", cwd=operator_dir)

    assert (good.returncode, good.stderr) == (0, "")
    assert good.stdout.startswith("app.yaml: OK (")
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.startswith("casedesk: broken.yaml has 9 problems:\n")
    assert "Traceback" not in bad.stderr


# python -m bot (serve) and python -m bot db upgrade


@pytest.mark.parametrize(
    ("env", "setting"),
    [({}, "SLACK_BOT_TOKEN"), ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET")],
)
def test_serving_without_slack_credentials_stops_with_one_line_naming_the_setting(
    operator_dir: Path, env: dict[str, str], setting: str
) -> None:
    result = run_bot(cwd=operator_dir, **env)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"casedesk: setting {setting} is not set")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a database", "is not a database URL"),
        ("postgresql://nobody@127.0.0.1:1/casedesk", "cannot connect"),
        ("mysql://nobody@127.0.0.1/casedesk", "no driver installed"),
    ],
)
def test_serving_with_a_bad_database_url_stops_with_one_line_naming_database_url(
    operator_dir: Path, url: str, reason: str
) -> None:
    result = run_bot(
        cwd=operator_dir, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="secret", DATABASE_URL=url
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("casedesk: setting DATABASE_URL: ")
    assert reason in result.stderr


def test_db_upgrade_migrates_a_fresh_sqlite_file_and_prints_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"

    first = run_bot("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    again = run_bot("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)

    head = migrate.head_revision()
    assert head is not None
    for result in (first, again):
        assert (result.returncode, result.stdout) == (0, f"Database is at revision {head}.\n")
    database = Database(url)
    try:
        assert migrate.current_revision(database) == head
    finally:
        database.dispose()
