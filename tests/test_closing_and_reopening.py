"""The case rules (`CaseService`), closing and reopening: an agent closes from any open status,
a closed case says who closed it and how to reopen, and each reopen is counted. Every test runs
on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from case_rules_helpers import (
    Desk,
    Row,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)
from conftest import AGENT, AGENT_2, BILLING_AGENT, OUTSIDER, REQUESTER
from helpers import HOUR, MINUTE

from bot.refusals import InvalidMove, NotAllowed


def closed_message(verb: str, by: str = AGENT, when: str = "10 min ago") -> str:
    return (
        f"Case #1 is already closed by <@{by}> {when}, so you cannot {verb} it. "
        "Use `/case reopen 1 <reason>` first."
    )


# Closing and reopening


@pytest.mark.parametrize("status", ["open", "in_progress", "pending"])
def test_an_agent_closes_a_case_from_any_open_status(desk: Desk, status: str) -> None:
    desk.open()
    if status != "open":
        desk.claim()
    if status == "pending":
        desk.pending()
    closed_at = desk.clock.advance(HOUR)
    desk.close(resolution="Reset the password", by=AGENT_2)

    case = desk.case()
    assert (case.status, case.resolution) == ("closed", "Reset the password")
    assert (case.closed_at, case.closed_by, case.pending_reason, case.pending_since) == (
        closed_at,
        AGENT_2,
        None,
        None,
    )
    assert desk.trail()[-1] == Row(
        closed_at, AGENT_2, "closed", status_before=status, status_after="closed"
    )
    assert desk.events()[-1].details == {"resolution": "Reset the password"}


def test_closing_by_someone_who_is_not_an_agent_is_refused(desk: Desk) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.close(by=REQUESTER))

    assert message == "Only agents and managers of Customer Support can close cases."


@pytest.mark.parametrize(
    ("verb", "change"),
    [
        ("claim", lambda desk: desk.claim(by=AGENT_2)),
        ("mark as pending", lambda desk: desk.pending()),
        ("close", lambda desk: desk.close()),
        ("assign", lambda desk: desk.assign(to=AGENT_2)),
        ("unassign", lambda desk: desk.unassign()),
        ("escalate", lambda desk: desk.escalate()),
        ("resume", lambda desk: desk.resume()),
    ],
)
def test_changing_a_closed_case_says_who_closed_it_and_how_to_reopen(
    desk: Desk, verb: str, change: Callable[[Desk], object]
) -> None:
    desk.open()
    desk.claim()
    desk.close(by=AGENT)
    desk.clock.advance(10 * MINUTE)

    message = refused(InvalidMove, lambda: change(desk))

    assert message == closed_message(verb)
    assert desk.actions() == ["opened", "claimed", "closed"]


def test_reopening_an_assigned_case_puts_it_back_in_progress_and_counts_the_reopen(
    desk: Desk,
) -> None:
    desk.open()
    desk.claim()
    desk.close()
    reopened_at = desk.clock.advance(HOUR)
    desk.reopen(reason="Still cannot log in", by=REQUESTER)

    case = desk.case()
    assert (case.status, case.assignee_id, case.reopen_count) == ("in_progress", AGENT, 1)
    assert (case.reopened_at, case.resolution) == (reopened_at, None)
    assert desk.trail()[-1] == Row(
        reopened_at, REQUESTER, "reopened", status_before="closed", status_after="in_progress"
    )
    assert desk.events()[-1].details == {"reason": "Still cannot log in"}


def test_reopening_an_unassigned_case_puts_it_back_open(desk: Desk) -> None:
    desk.open()
    desk.close()
    desk.reopen(by=AGENT)

    assert (desk.case().status, desk.trail()[-1].status_after) == ("open", "open")


def test_each_reopen_is_counted(desk: Desk) -> None:
    desk.open()
    for _ in range(2):
        desk.close()
        desk.reopen()

    assert desk.case().reopen_count == 2


@pytest.mark.parametrize("by", [OUTSIDER, BILLING_AGENT])
def test_reopening_by_an_outsider_is_refused(desk: Desk, by: str) -> None:
    desk.open()
    desk.close()

    message = refused(NotAllowed, lambda: desk.reopen(by=by))

    assert message == (
        "Only the requester or an agent or manager of Customer Support can reopen case #1."
    )
    assert desk.case().status == "closed"


@pytest.mark.parametrize(("claimed", "label"), [(False, "open"), (True, "in progress")])
def test_reopening_a_case_that_is_not_closed_is_refused(
    desk: Desk, claimed: bool, label: str
) -> None:
    desk.open()
    if claimed:
        desk.claim()

    assert refused(InvalidMove, lambda: desk.reopen()) == f"Case #1 is not closed; it is {label}."
