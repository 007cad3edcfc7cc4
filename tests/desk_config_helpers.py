"""What the modules about the desk configuration (`app.yaml`) share: the example file, a broken
desk with its problems, and an operator's working directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DESK_YAML
from helpers import REPO

from bot.desk import ConfigError, parse_desk_config

EXAMPLE = REPO / "app.yaml"


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


@pytest.fixture(name="operator_dir")
def operator_dir_fixture(tmp_path: Path) -> Path:
    """A working directory holding a copy of the example app.yaml and nothing else."""
    shutil.copy(EXAMPLE, tmp_path / "app.yaml")
    return tmp_path


def support_with(key: str, settings: str) -> str:
    """The test desk, its support team given `key: {settings}` (e.g. intake, assignment)."""
    return DESK_YAML.replace(
        "    default_priority: p3\n", f"    default_priority: p3\n    {key}: {{{settings}}}\n", 1
    )


def problems_in(text: str) -> list[str]:
    """Every problem app.yaml `text` has, as check-config lists them."""
    with pytest.raises(ConfigError) as raised:
        parse_desk_config(text, source="app.yaml")
    return raised.value.problems
