"""App Home says who takes new cases: an agent sees whether they are away (until when) and
their open load against `max_open`, with the command that changes it; a manager sees each
agent of the team, available or away, with their load, and how the team assigns new cases."""

from __future__ import annotations

import pytest
from conftest import MANAGER, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import HOUR, MINUTE, Json
from routing_helpers import ANA, BEN, CY, routed_desk
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.desk import DeskConfig, parse_desk_config

HOME_CHANNEL = "D0HOME"


@pytest.fixture
def desk_config() -> DeskConfig:
    return routed_desk("mode: round_robin, max_open: 5")


@pytest.fixture(autouse=True)
def rota(fake_slack: FakeSlack) -> None:
    fake_slack.usergroups["S0ROTA"] = [CY, BEN]


def open_home(slack: SlackDriver, fake: FakeSlack, user: str) -> Json:
    slack.event({"type": "app_home_opened", "user": user, "channel": HOME_CHANNEL, "tab": "home"})
    return fake.home_views[user]


def texts(view: Json) -> list[str]:
    """Each section's and context's text, in order (a context's elements joined)."""
    shown = []
    for block in view["blocks"]:
        if block["type"] == "section" and "text" in block:
            shown.append(str(block["text"]["text"]))
        elif block["type"] == "context":
            shown.append(" ".join(str(element["text"]) for element in block["elements"]))
    return shown


def availability(view: Json) -> tuple[str, str]:
    """The agent's own line (`*You are …*`) and the hint under it."""
    shown = texts(view)
    index = next(i for i, text in enumerate(shown) if text.startswith("*You are "))
    return shown[index], shown[index + 1]


def who_is_on(view: Json) -> list[str]:
    """The manager's `*Who is on*` section: its head, then one line per person."""
    return next(text for text in texts(view) if text.startswith("*Who is on*")).splitlines()


def test_an_agent_sees_they_are_available_and_their_load_against_max_open(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command(REQUESTER, "open Printer on fire")  # round robin: Ana's

    line, hint = availability(open_home(slack, fake_slack, ANA))

    assert line == "*You are available* · 1/5 open"
    assert hint == (
        "Stepping out? `/case away [until 14:00 | for 2h]`: new cases skip you until you are back."
    )


def test_an_agent_away_sees_until_when_and_how_to_come_back(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    slack.command(BEN, "away for 2h")

    line, hint = availability(open_home(slack, fake_slack, BEN))

    back_at = int((clock.now() + 2 * HOUR).timestamp())
    assert line.startswith(f"*You are away* until <!date^{back_at}^")
    assert line.endswith(" · 0/5 open")
    assert "`/case back` when you are back" in hint
    assert "you can still claim by hand" in hint

    clock.advance(2 * HOUR + MINUTE)  # the away ends by itself
    assert availability(open_home(slack, fake_slack, BEN))[0] == "*You are available* · 0/5 open"


def test_an_agent_away_until_they_say_so_and_back_again(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command(CY, "away")
    assert availability(open_home(slack, fake_slack, CY))[0] == "*You are away* · 0/5 open"

    slack.command(CY, "back")

    assert availability(open_home(slack, fake_slack, CY))[0] == "*You are available* · 0/5 open"


def test_an_open_app_home_shows_the_load_of_a_case_routed_to_its_agent(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    open_home(slack, fake_slack, ANA)

    slack.command(REQUESTER, "open Printer on fire")  # Ana's, by the turn

    assert availability(fake_slack.home_views[ANA])[0] == "*You are available* · 1/5 open"


def test_going_away_and_back_refreshes_the_agents_open_home_and_their_managers(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    for user in (CY, MANAGER, BEN):
        open_home(slack, fake_slack, user)
    bens_home = fake_slack.home_views[BEN]

    slack.command(CY, "away")

    assert availability(fake_slack.home_views[CY])[0] == "*You are away* · 0/5 open"
    assert who_is_on(fake_slack.home_views[MANAGER])[3] == f"• <@{CY}>: away · 0/5 open"
    assert fake_slack.home_views[BEN] is bens_home  # another agent's home shows nothing of it

    slack.command(CY, "back")

    assert availability(fake_slack.home_views[CY])[0] == "*You are available* · 0/5 open"
    assert who_is_on(fake_slack.home_views[MANAGER])[3] == f"• <@{CY}>: available · 0/5 open"


@pytest.mark.parametrize("desk_config", [routed_desk("mode: round_robin")])
def test_without_max_open_the_load_is_a_count(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    for n in range(4):  # Ana, Ben, Cy, Ana
        slack.command(REQUESTER, f"open Printer {n}")

    assert availability(open_home(slack, fake_slack, ANA))[0] == "*You are available* · 2 open"
    assert who_is_on(open_home(slack, fake_slack, MANAGER))[0] == (
        "*Who is on* · new cases go round robin"
    )


def test_a_manager_sees_each_agent_available_or_away_with_their_load_and_the_mode(
    slack: SlackDriver, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    slack.command(REQUESTER, "open Printer 1")  # Ana
    slack.command(REQUESTER, "open Printer 2")  # Ben
    slack.command(CY, "away for 1h")

    home = open_home(slack, fake_slack, MANAGER)

    head, ana, ben, cy = who_is_on(home)
    assert head == "*Who is on* · new cases go round robin, at most 5 open each"
    assert ana == f"• <@{ANA}>: available · 1/5 open"
    assert ben == f"• <@{BEN}>: available · 1/5 open"
    in_an_hour = int((clock.now() + HOUR).timestamp())
    assert cy.startswith(f"• <@{CY}>: away until <!date^{in_an_hour}^")
    assert cy.endswith(" · 0/5 open")
    assert not any(text.startswith("*You are ") for text in texts(home))  # not in the turn


def test_a_manager_holding_cases_is_listed_after_the_agents_in_turn(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command(REQUESTER, "open Printer 1")  # Ana
    slack.command(MANAGER, f"assign 1 <@{MANAGER}>")

    assert who_is_on(open_home(slack, fake_slack, MANAGER))[1:] == [
        f"• <@{ANA}>: available · 0/5 open",
        f"• <@{BEN}>: available · 0/5 open",
        f"• <@{CY}>: available · 0/5 open",
        f"• <@{MANAGER}>: manager · 1 open",
    ]


@pytest.mark.parametrize(
    ("desk_config", "said"),
    [
        (routed_desk("mode: manual"), "new cases wait for a claim"),
        (routed_desk("mode: least_loaded, max_open: 3"), "new cases go to the least loaded"),
    ],
)
def test_the_manager_sees_how_the_team_assigns_new_cases(
    slack: SlackDriver, fake_slack: FakeSlack, desk_config: DeskConfig, said: str
) -> None:
    cap = desk_config.team("support").assignment.max_open
    expected = f"*Who is on* · {said}" + (f", at most {cap} open each" if cap else "")

    assert who_is_on(open_home(slack, fake_slack, MANAGER))[0] == expected


def test_a_requester_sees_no_availability(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.command(REQUESTER, "open Printer on fire")

    home = open_home(slack, fake_slack, REQUESTER)

    assert not any(text.startswith(("*You are ", "*Who is on*")) for text in texts(home))


TWO_TEAMS = f"""
default_team: support
teams:
  support:
    name: Customer Support
    channel: {SUPPORT_CHANNEL}
    agents: [{ANA}, {BEN}]
    managers: [{MANAGER}]
    assignment: {{mode: round_robin, max_open: 5}}
  billing:
    name: Billing
    channel: C0BILLING
    agents: [{ANA}]
    assignment: {{mode: round_robin, max_open: 8}}
"""


@pytest.mark.parametrize("desk_config", [parse_desk_config(TWO_TEAMS, source="two teams")])
def test_an_agent_of_two_teams_with_different_caps_sees_each(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command(REQUESTER, "open Printer on fire")  # support: Ana's
    slack.command(REQUESTER, "open team:billing Wrong invoice")  # billing: Ana's

    line, _ = availability(open_home(slack, fake_slack, ANA))

    assert line == "*You are available* · 2 open (at most 5 in Customer Support, 8 in Billing)"
