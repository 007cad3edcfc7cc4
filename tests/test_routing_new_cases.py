"""New cases go to an available agent by themselves: round robin in app.yaml's order or the
least loaded, never to a manager, past agents who are away or at `max_open`; with nobody
available the case waits and the managers are told. Each choice says why."""

from __future__ import annotations

import threading

import pytest
from conftest import MANAGER, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import another_process, case_count, case_row
from routing_helpers import ANA, BEN, CY, rota, routed_desk  # noqa: F401 (fixture)
from slack_commands_helpers import event_of, thread_texts
from slack_driver import SlackDriver

from bot.desk import DeskConfig
from bot.requester import Requester
from bot.runtime.casedesk import Casedesk
from models import CaseStatus, EventSource


@pytest.fixture
def desk_config() -> DeskConfig:
    return routed_desk("mode: round_robin, max_open: 2")


def open_cases(slack: SlackDriver, count: int) -> None:
    for n in range(1, count + 1):
        slack.command(REQUESTER, f"open Printer {n}")


def assignees(casedesk: Casedesk, count: int) -> list[str | None]:
    return [case_row(casedesk, n).assignee_id for n in range(1, count + 1)]


def away(casedesk: Casedesk, *agents: str) -> None:
    with casedesk.db.unit_of_work() as session:
        for agent in agents:
            casedesk.flows.routing.set_away(session, agent, None)


def test_new_cases_go_round_the_agents_in_app_yaml_order_never_to_a_manager(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    open_cases(slack, 4)

    assert assignees(casedesk, 4) == [ANA, BEN, CY, ANA]
    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assigned = event_of(casedesk, "assigned", 2)
    assert (assigned.actor_id, assigned.details["mode"], assigned.details["after"]) == (
        "scheduler",
        "round_robin",
        ANA,
    )


def test_the_choice_and_its_reason_are_told_in_the_thread_and_shown_on_the_card(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_cases(slack, 1)
    away(casedesk, BEN)
    slack.command(REQUESTER, "open Printer 2")

    card_ts = fake_slack.messages(SUPPORT_CHANNEL)[-1]["ts"]
    told = "\n".join(thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts))
    assert (
        f"Casedesk assigned this case to <@{CY}> (round robin: next after <@{ANA}>; "
        f"skipped <@{BEN}> (away))."
    ) in told
    assert f"<@{CY}>" in str(fake_slack.messages(SUPPORT_CHANNEL)[-1]["blocks"])


def test_an_agent_at_max_open_gets_no_more_until_one_is_closed(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    away(casedesk, BEN, CY)
    open_cases(slack, 3)

    assert assignees(casedesk, 3) == [ANA, ANA, None]
    waiting = event_of(casedesk, "nobody_available", 3)
    assert waiting.details["full"] == {ANA: 2}
    slack.command(ANA, "close 1 Fixed")
    slack.command(REQUESTER, "open Printer 4")
    assert case_row(casedesk, 4).assignee_id == ANA


def test_with_nobody_available_the_case_waits_and_the_managers_are_told_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    away(casedesk, ANA, BEN, CY)

    slack.command(REQUESTER, "open Printer on fire")
    slack.command(MANAGER, "note 1 Looking for someone")

    assert case_row(casedesk).assignee_id is None
    card_ts = fake_slack.messages(SUPPORT_CHANNEL)[-1]["ts"]
    told = "\n".join(thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts))
    assert "Nobody could take this case" in told
    assert told.count(f"cc <@{MANAGER}>") == 1


def test_an_away_agent_can_still_claim_by_hand(slack: SlackDriver, casedesk: Casedesk) -> None:
    away(casedesk, ANA, BEN, CY)
    slack.command(REQUESTER, "open Printer on fire")

    slack.command(BEN, "claim 1")

    assert case_row(casedesk).assignee_id == BEN


@pytest.mark.parametrize("desk_config", [routed_desk("mode: least_loaded")])
def test_least_loaded_gives_the_case_to_the_agent_with_fewest_open(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    open_cases(slack, 3)  # one each
    slack.command(BEN, "close 2 Done")

    slack.command(REQUESTER, "open Printer 4")

    assert case_row(casedesk, 4).assignee_id == BEN
    assert event_of(casedesk, "assigned", 4).details["load"] == 0


@pytest.mark.parametrize("desk_config", [routed_desk("mode: manual")])
def test_a_manual_team_leaves_new_cases_for_a_claim(slack: SlackDriver, casedesk: Casedesk) -> None:
    open_cases(slack, 2)

    assert assignees(casedesk, 2) == [None, None]


def test_two_processes_opening_at_once_give_the_cases_to_two_agents(
    slack: SlackDriver, casedesk: Casedesk, fake_slack: FakeSlack
) -> None:
    open_cases(slack, 1)  # Ana's: the turn is Ben's next
    start = threading.Barrier(2)

    def open_one(replica: Casedesk, n: int) -> None:
        who = Requester(f"U0ASKER{n}", SUPPORT_CHANNEL, EventSource.COMMAND)  # not one lock
        start.wait()
        replica.flows.open_case(who, title=f"Printer {n}")

    with another_process(casedesk) as other:
        threads = [
            threading.Thread(target=open_one, args=(replica, n))
            for n, replica in enumerate((casedesk, other), 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert case_count(casedesk) == 3
    assert sorted(str(agent) for agent in assignees(casedesk, 3)[1:]) == [BEN, CY]
