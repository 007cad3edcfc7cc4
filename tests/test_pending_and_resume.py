"""The case rules (`CaseService`), waiting on the requester: `pending` parks a case in progress,
`resume` (by an agent or the requester) puts it back, and what is refused on the way. Every test
runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from case_rules_helpers import (
    Desk,
    Row,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)
from conftest import AGENT, MANAGER, OUTSIDER, REQUESTER
from helpers import HOUR, MINUTE

from bot.refusals import InvalidMove, NotAllowed

# Waiting on the requester


def test_pending_parks_an_in_progress_case_and_resume_puts_it_back(desk: Desk) -> None:
    desk.open()
    desk.claim()
    parked = desk.clock.advance(MINUTE)
    desk.pending(reason="Waiting for the invoice number")
    case = desk.case()
    assert (case.status, case.pending_reason, case.pending_since) == (
        "pending",
        "Waiting for the invoice number",
        parked,
    )

    resumed = desk.clock.advance(HOUR)
    desk.resume(by=AGENT)

    case = desk.case()
    assert (case.status, case.pending_reason, case.pending_since) == ("in_progress", None, None)
    assert desk.trail()[2:] == [
        Row(parked, AGENT, "pending", status_before="in_progress", status_after="pending"),
        Row(resumed, AGENT, "resumed", status_before="pending", status_after="in_progress"),
    ]
    assert desk.events()[2].details == {"reason": "Waiting for the invoice number"}


def test_the_requester_may_resume_their_pending_case(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending()
    desk.resume(by=REQUESTER)

    assert desk.case().status == "in_progress"
    assert desk.events()[-1].actor_id == REQUESTER


def test_a_pending_case_that_lost_its_assignee_resumes_as_open(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending()
    desk.unassign()
    desk.resume(by=MANAGER)

    assert (desk.case().status, desk.trail()[-1].status_after) == ("open", "open")


def test_resume_by_someone_who_is_neither_agent_nor_requester_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending()

    message = refused(NotAllowed, lambda: desk.resume(by=OUTSIDER))

    assert message == "Only agents and managers of Customer Support can resume cases."
    assert desk.case().status == "pending"


def test_pending_on_an_open_unclaimed_case_asks_to_claim_it_first(desk: Desk) -> None:
    desk.open()

    message = refused(InvalidMove, lambda: desk.pending())

    assert message == "Nobody is working on case #1 yet. Claim it first with `/case claim 1`."


def test_pending_twice_says_it_is_already_pending_and_how_to_resume(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending(reason="Waiting for logs")

    message = refused(InvalidMove, lambda: desk.pending(reason="Waiting for more logs"))

    assert message == (
        "Case #1 is already pending (Waiting for logs). `/case resume 1` puts it back in progress."
    )


@pytest.mark.parametrize(("claimed", "label"), [(False, "open"), (True, "in progress")])
def test_resuming_a_case_that_is_not_pending_is_refused(
    desk: Desk, claimed: bool, label: str
) -> None:
    desk.open()
    if claimed:
        desk.claim()

    message = refused(InvalidMove, lambda: desk.resume(by=AGENT))

    assert message == f"Case #1 is not pending; it is {label}."


def test_pending_by_someone_who_is_not_an_agent_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim()

    message = refused(NotAllowed, lambda: desk.pending(by=REQUESTER))

    assert message == "Only agents and managers of Customer Support can mark cases as pending."
