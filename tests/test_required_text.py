"""The case rules (`CaseService`), what a change must say: a blank reason, resolution or note is
refused with the usage, and so is a case number that does not exist. Every test runs on SQLite
and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from case_rules_helpers import (
    Desk,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)

from bot.refusals import BadInput, CaseNotFound

# Required text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda desk: desk.close(resolution="  "),
            "Please give a resolution: `/case close 1 <resolution>`.",
        ),
        (
            lambda desk: desk.pending(reason=""),
            "Please give what you are waiting for: `/case pending 1 <what we wait for>`.",
        ),
        (
            lambda desk: desk.escalate(reason="\n"),
            "Please give a reason: `/case escalate 1 <reason>`.",
        ),
        (lambda desk: desk.note(note=" "), "Please give the note's text: `/case note 1 <text>`."),
    ],
    ids=["close", "pending", "escalate", "note"],
)
def test_blank_reasons_and_resolutions_are_refused_with_the_usage(
    desk: Desk, change: Callable[[Desk], object], message: str
) -> None:
    desk.open()
    desk.claim()

    assert refused(BadInput, lambda: change(desk)) == message
    assert desk.actions() == ["opened", "claimed"]


def test_reopening_without_a_reason_is_refused_with_the_usage(desk: Desk) -> None:
    desk.open()
    desk.close()

    message = refused(BadInput, lambda: desk.reopen(reason="   "))

    assert message == "Please give a reason: `/case reopen 1 <reason>`."
    assert desk.case().status == "closed"


@pytest.mark.parametrize(
    "change",
    [
        lambda desk: desk.claim(99),
        lambda desk: desk.assign(99),
        lambda desk: desk.unassign(99),
        lambda desk: desk.escalate(99),
        lambda desk: desk.pending(99),
        lambda desk: desk.resume(99),
        lambda desk: desk.close(99),
        lambda desk: desk.reopen(99),
        lambda desk: desk.note(99),
        lambda desk: desk.case(99),
    ],
    ids=["claim", "assign", "unassign", "escalate", "pending", "resume", "close", "reopen",
         "note", "get"],
)  # fmt: skip
def test_an_unknown_case_number_is_refused(desk: Desk, change: Callable[[Desk], object]) -> None:
    desk.open()

    message = refused(CaseNotFound, lambda: change(desk))

    assert message == "There is no case #99. `/case list` shows the open ones."
