"""The case rules (`CaseService`), claiming, assigning and unassigning: who counts as an agent
of the team, who may take, hand over or give back a case, and what each refusal says. Every test
runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from case_rules_helpers import (
    Desk,
    Row,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)
from conftest import AGENT, AGENT_2, BILLING_AGENT, MANAGER, OUTSIDER, REQUESTER
from helpers import MINUTE

from bot.refusals import InvalidMove, NotAllowed

# Claiming


def test_an_agent_claims_an_open_case_and_it_moves_to_in_progress(desk: Desk) -> None:
    desk.open()
    claimed_at = desk.clock.advance(5 * MINUTE)
    desk.claim(by=AGENT)

    case = desk.case()
    assert (case.status, case.assignee_id, case.first_assignee_id) == ("in_progress", AGENT, AGENT)
    assert (case.claimed_at, case.last_activity_at) == (claimed_at, claimed_at)
    assert desk.trail()[1:] == [
        Row(claimed_at, AGENT, "claimed", to_value=AGENT, status_before="open",
            status_after="in_progress"),
    ]  # fmt: skip


@pytest.mark.parametrize("member", [AGENT_2, MANAGER], ids=["usergroup-member", "manager"])
def test_usergroup_members_and_managers_count_as_agents(desk: Desk, member: str) -> None:
    desk.open()
    desk.claim(by=member)

    assert desk.case().assignee_id == member


@pytest.mark.parametrize("user", [OUTSIDER, REQUESTER, BILLING_AGENT, "U0BILLMGR"])
def test_a_claim_by_someone_who_is_not_an_agent_of_the_team_is_refused_and_names_the_rule(
    desk: Desk, user: str
) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.claim(by=user))

    assert message == "Only agents and managers of Customer Support can claim cases."
    assert desk.case().status == "open"


def test_second_claim_is_refused_and_names_who_has_it(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)
    desk.clock.advance(5 * MINUTE)

    message = refused(InvalidMove, lambda: desk.claim(by=AGENT_2))

    assert message == (
        "Case #1 is already claimed by <@U0AGENT1> (5 min ago). "
        "Ask them or a manager to hand it over with `/case assign 1 @you`."
    )
    assert desk.case().assignee_id == AGENT


def test_claiming_a_case_you_already_have_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)

    assert refused(InvalidMove, lambda: desk.claim(by=AGENT)) == "You already have case #1."


# Assigning and unassigning


def test_a_manager_assigns_an_open_case_to_an_agent(desk: Desk) -> None:
    desk.open()
    at = desk.clock.advance(MINUTE)
    desk.assign(to=AGENT_2, by=MANAGER)

    case = desk.case()
    assert (case.status, case.assignee_id, case.claimed_at) == ("in_progress", AGENT_2, at)
    assert desk.trail()[-1] == Row(
        at, MANAGER, "assigned", to_value=AGENT_2, status_before="open", status_after="in_progress"
    )


def test_the_assignee_hands_the_case_over_and_the_first_assignee_is_kept(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)
    at = desk.clock.advance(MINUTE)
    desk.assign(to=AGENT_2, by=AGENT)

    case = desk.case()
    assert (case.assignee_id, case.first_assignee_id, case.status) == (
        AGENT_2,
        AGENT,
        "in_progress",
    )
    assert desk.trail()[-1] == Row(at, AGENT, "assigned", from_value=AGENT, to_value=AGENT_2)


def test_an_agent_may_assign_an_unassigned_case_to_themselves(desk: Desk) -> None:
    desk.open()
    desk.assign(to=AGENT_2, by=AGENT_2)

    assert desk.case().assignee_id == AGENT_2


def test_assigning_by_someone_who_is_neither_manager_nor_assignee_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)

    message = refused(NotAllowed, lambda: desk.assign(to=AGENT_2, by=AGENT_2))

    assert message == (
        "Only a manager of Customer Support or the case's assignee can assign case #1 "
        "to someone else."
    )
    assert desk.case().assignee_id == AGENT


@pytest.mark.parametrize("assignee", [BILLING_AGENT, OUTSIDER, "U0BILLMGR"])
def test_assigning_to_someone_who_is_not_an_agent_of_the_team_is_refused(
    desk: Desk, assignee: str
) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.assign(to=assignee, by=MANAGER))

    assert message == (
        f"<@{assignee}> is not an agent of Customer Support, so they cannot take case #1."
    )


def test_assigning_to_the_current_assignee_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)

    message = refused(InvalidMove, lambda: desk.assign(to=AGENT, by=MANAGER))

    assert message == "Case #1 is already assigned to <@U0AGENT1>."


@pytest.mark.parametrize("by", [AGENT, MANAGER], ids=["assignee", "manager"])
def test_unassigning_puts_the_case_back_in_the_queue_as_open(desk: Desk, by: str) -> None:
    desk.open()
    desk.claim(by=AGENT)
    at = desk.clock.advance(MINUTE)
    desk.unassign(by=by)

    case = desk.case()
    assert (case.status, case.assignee_id) == ("open", None)
    assert desk.trail()[-1] == Row(
        at, by, "unassigned", from_value=AGENT, status_before="in_progress", status_after="open"
    )


@pytest.mark.parametrize("by", [AGENT_2, REQUESTER, OUTSIDER])
def test_unassigning_someone_elses_case_is_refused(desk: Desk, by: str) -> None:
    desk.open()
    desk.claim(by=AGENT)

    message = refused(NotAllowed, lambda: desk.unassign(by=by))

    assert message == "Only a manager of Customer Support or the assignee can unassign case #1."
    assert desk.case().assignee_id == AGENT


def test_unassigning_a_case_nobody_has_is_refused(desk: Desk) -> None:
    desk.open()

    assert refused(InvalidMove, lambda: desk.unassign(by=MANAGER)) == "Case #1 has no assignee."
