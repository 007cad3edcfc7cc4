"""Agents step out of automatic assignment with `/case away [until <time>|for <duration>]`
(in their own time zone) and back with `/case back`; `/case who` shows who is on."""

from __future__ import annotations

import pytest
from conftest import REQUESTER
from fake_slack import FakeSlack
from helpers import HOUR, MINUTE, case_row
from routing_helpers import ANA, BEN, CY, rota, routed_desk  # noqa: F401 (fixture)
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.desk import DeskConfig
from bot.runtime.casedesk import Casedesk


@pytest.fixture
def desk_config() -> DeskConfig:
    return routed_desk("mode: round_robin, max_open: 5")


@pytest.fixture(autouse=True)
def ben_in_madrid(fake_slack: FakeSlack) -> None:
    fake_slack.users[BEN] = {"tz": "Europe/Madrid"}


def test_an_agent_away_gets_no_new_cases_until_back(slack: SlackDriver, casedesk: Casedesk) -> None:
    said = slack.command(BEN, "away")

    assert "You are away: no new cases come to you by themselves." in said.reply_text
    slack.command(REQUESTER, "open Printer 1")
    slack.command(REQUESTER, "open Printer 2")
    assert [case_row(casedesk, n).assignee_id for n in (1, 2)] == [ANA, CY]

    assert "Welcome back" in slack.command(BEN, "back").reply_text
    slack.command(REQUESTER, "open Printer 3")
    assert case_row(casedesk, 3).assignee_id == ANA  # the turn goes on: Ana, then Ben
    slack.command(REQUESTER, "open Printer 4")
    assert case_row(casedesk, 4).assignee_id == BEN


def test_away_for_a_while_ends_by_itself(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    slack.command(ANA, "away for 2h")
    slack.command(REQUESTER, "open Printer 1")
    assert case_row(casedesk, 1).assignee_id == BEN

    clock.advance(2 * HOUR + MINUTE)
    slack.command(REQUESTER, "open Printer 2")
    assert case_row(casedesk, 2).assignee_id == CY
    slack.command(REQUESTER, "open Printer 3")
    assert case_row(casedesk, 3).assignee_id == ANA


def test_away_until_a_time_is_read_in_the_agents_own_time_zone(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    # 09:00 UTC is 10:00 in Madrid: away until 14:00 Madrid is 13:00 UTC.
    said = slack.command(BEN, "away until 14:00")

    assert "<!date^1795438800^" in said.reply_text
    assert "You can still claim by hand" in said.reply_text


@pytest.mark.parametrize("typed", ["until 25:00", "until noonish", "for ever", "tomorrow"])
def test_a_time_that_is_no_time_is_told_clearly(slack: SlackDriver, typed: str) -> None:
    said = slack.command(BEN, f"away {typed}")

    assert f"`{typed}` is not a time of day or a length of time." in said.reply_text
    assert "/case away [until 14:00 | for 2h]" in said.reply_text


def test_only_agents_can_be_away(slack: SlackDriver) -> None:
    said = slack.command(REQUESTER, "away")

    assert "only they can be away" in said.reply_text


def test_who_shows_each_agent_available_or_away_with_their_load(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Printer 1")
    slack.command(CY, "away for 1h")

    shown = slack.command(ANA, "who").reply_text

    assert "Customer Support" in shown
    assert "round robin, at most 5 open each" in shown
    assert f"<@{ANA}>: available · 1/5 open" in shown
    assert f"<@{BEN}>: available · 0/5 open" in shown
    assert f"<@{CY}>: away until <!date^" in shown
