"""What the modules about routing share: a team of three agents (one direct, two through a
user group) and a manager, assigning as asked."""

from __future__ import annotations

import pytest
from conftest import MANAGER, SUPPORT_CHANNEL
from fake_slack import FakeSlack

from bot.desk import DeskConfig, parse_desk_config

ANA, BEN, CY = "U0ANA", "U0BEN", "U0CY"


def routed_desk(assignment: str, more: str = "") -> DeskConfig:
    """The team assigning as `assignment` says; `more` is app.yaml after the teams (its
    calendars and SLA policies, say)."""
    return parse_desk_config(
        f"""
default_team: support
teams:
  support:
    name: Customer Support
    channel: {SUPPORT_CHANNEL}
    agents: [{ANA}, S0ROTA, {MANAGER}]
    managers: [{MANAGER}]
    assignment: {{{assignment}}}
"""
        + more,
        source="routed desk",
    )


@pytest.fixture(autouse=True)
def rota(fake_slack: FakeSlack) -> None:
    """Ben and Cy are agents through the S0ROTA user group (members sorted, in turn)."""
    fake_slack.usergroups["S0ROTA"] = [CY, BEN]
