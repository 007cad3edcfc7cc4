"""Refused commands and clicks, delivered by Slack over signed HTTP: the person is told exactly
why, and nothing changes: no event, no card update, no form."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from conftest import AGENT, AGENT_2, MANAGER, OUTSIDER, REQUESTER
from fake_slack import FakeSlack
from helpers import case_row, open_case
from slack_commands_helpers import claimed_case, closed_case, event_count, pending_case
from slack_driver import HttpResult, SlackDriver

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CaseStatus

# Helpers: getting a case into a state


STATES: dict[str, Callable[[SlackDriver], str]] = {
    "open": open_case,
    "claimed": claimed_case,
    "pending": pending_case,
    "closed": closed_case,
}


def refusal_problem(
    fake: FakeSlack, casedesk: Casedesk, act: Callable[[], HttpResult], told: str
) -> str | None:
    """Do `act`; describe what went wrong unless the person was told `told` and nothing
    changed: no audit event, no card or thread message, no form."""
    events_before = event_count(casedesk)
    fake.clear()
    result = act()
    wrote = [c.method for c in fake.calls if c.method.startswith(("chat.", "views."))]
    if told not in result.reply_text:
        return f"expected {told!r}, was told {result.reply_text!r}"
    if (result.status, event_count(casedesk) - events_before, wrote) != (200, 0, []):
        return f"status {result.status}, {event_count(casedesk) - events_before} events, {wrote}"
    return None


# Refusals: the person is told exactly why, and nothing changes


def assert_refused(slack: SlackDriver, casedesk: Casedesk, user: str, text: str, told: str) -> None:
    """`/case <text>` from `user` is refused with `told`, and changes nothing."""
    problem = refusal_problem(slack.fake, casedesk, partial(slack.command, user, text), told)
    assert problem is None, problem


def test_a_non_agent_cannot_claim(slack: SlackDriver, casedesk: Casedesk) -> None:
    open_case(slack)

    told = "Only agents and managers of Customer Support can claim cases."
    assert_refused(slack, casedesk, OUTSIDER, "claim 1", told)

    assert case_row(casedesk).assignee_id is None


def test_a_second_claim_names_who_has_the_case(slack: SlackDriver, casedesk: Casedesk) -> None:
    claimed_case(slack)

    told = (
        "Case #1 is already claimed by <@U0AGENT1> (just now). "
        "Ask them or a manager to hand it over with `/case assign 1 @you`."
    )
    assert_refused(slack, casedesk, AGENT_2, "claim 1", told)

    assert case_row(casedesk).assignee_id == AGENT


def test_a_closed_case_cannot_be_acted_on(slack: SlackDriver, casedesk: Casedesk) -> None:
    closed_case(slack)

    told = (
        "Case #1 is already closed by <@U0AGENT1> just now, so you cannot escalate it. "
        "Use `/case reopen 1 <reason>` first."
    )
    assert_refused(slack, casedesk, AGENT_2, "escalate 1 Still broken", told)


def test_an_unknown_case_number_is_refused(slack: SlackDriver, casedesk: Casedesk) -> None:
    told = "There is no case #999. `/case list` shows the open ones."
    assert_refused(slack, casedesk, AGENT, "claim 999", told)


def test_a_reference_that_is_not_a_number_is_refused_with_the_usage(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    told = "`abc` is not a case number. Usage: `/case claim <case>` (a case is `42` or `#42`)."
    assert_refused(slack, casedesk, AGENT, "claim abc", told)


def test_an_outsider_cannot_reopen(slack: SlackDriver, casedesk: Casedesk) -> None:
    closed_case(slack)

    told = "Only the requester or an agent or manager of Customer Support can reopen case #1."
    assert_refused(slack, casedesk, OUTSIDER, "reopen 1 I want it open", told)

    assert case_row(casedesk).status is CaseStatus.CLOSED


# Every other refusal a command can meet, by the state the case is in: (who, text, told).
REFUSALS: dict[str, list[tuple[str, str, str]]] = {
    "open": [
        (AGENT, "claim", "Which case? Usage: `/case claim <case>`"),
        (AGENT, "unassign 1", "Case #1 has no assignee."),
        (AGENT, "pending 1 logs", "Nobody is working on case #1 yet. Claim it first"),
        (AGENT, "resume 1", "Case #1 is not pending; it is open."),
        (REQUESTER, "reopen 1 why", "Case #1 is not closed; it is open."),
        (
            MANAGER,
            "assign 1 <@U0OUTSIDER|out>",
            "<@U0OUTSIDER> is not an agent of Customer Support, so they cannot take case #1.",
        ),
        (MANAGER, "assign 1 bob", "(I could not tell who `bob` is)."),
        (AGENT, "note 1", "Please give the note's text: `/case note 1 <text>`."),
        (OUTSIDER, "note 1 psst", "Only agents and managers of Customer Support can add internal"),
        (OUTSIDER, "escalate 1 now", "Only agents and managers of Customer Support can escalate"),
        (OUTSIDER, "escalate 1", "Only agents and managers of Customer Support can escalate"),
        (AGENT, "escalate 1 to legal now", "There is no team `legal`. Teams: `support`"),
        (OUTSIDER, "close 1 done", "Only agents and managers of Customer Support can close"),
        (OUTSIDER, "close 1", "Only agents and managers of Customer Support can close cases."),
        (REQUESTER, "open team:legal Help", "There is no team `legal`."),
        (AGENT, "list weird", "`weird` is not a list; use one of: open, mine"),
    ],
    "claimed": [
        (AGENT, "claim 1", "You already have case #1."),
        (AGENT_2, "assign 1 <@U0AGENT2|me>", "Only a manager of Customer Support or the case's"),
        (MANAGER, "assign 1 <@U0AGENT1|a>", "Case #1 is already assigned to <@U0AGENT1>."),
        (AGENT_2, "unassign 1", "Only a manager of Customer Support or the assignee can unassign"),
        (AGENT, "pending 1", "Please give what you are waiting for"),
    ],
    "pending": [
        (AGENT, "pending 1 more", "Case #1 is already pending (the logs). `/case resume 1`"),
        (OUTSIDER, "resume 1", "Only agents and managers of Customer Support can resume cases."),
    ],
    "closed": [
        (REQUESTER, "reopen 1", "Please give a reason: `/case reopen 1 <reason>`."),
        (AGENT, "claim 1", "Case #1 is already closed by <@U0AGENT1> just now, so you cannot"),
        (MANAGER, "assign 1 <@U0AGENT2|a>", "so you cannot assign it"),
        (AGENT, "close 1 again", "so you cannot close it"),
    ],
}


@pytest.mark.parametrize("state", list(REFUSALS))
def test_other_refused_commands_say_why_and_change_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, state: str
) -> None:
    STATES[state](slack)

    problems = {
        f"{user} /case {text}": problem
        for user, text, told in REFUSALS[state]
        if (
            problem := refusal_problem(
                fake_slack, casedesk, partial(slack.command, user, text), told
            )
        )
    }

    assert problems == {}


def test_refused_button_clicks_say_why_and_open_no_form(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    closed_case(slack)
    open_case(slack, "Second case")
    clicks = [
        (OUTSIDER, ActionId.CLOSE, "2", "Only agents and managers of Customer Support can close"),
        (OUTSIDER, ActionId.ESCALATE, "2", "Only agents and managers of Customer Support can"),
        (OUTSIDER, ActionId.CLAIM, "2", "Only agents and managers of Customer Support can claim"),
        (AGENT_2, ActionId.CLAIM, "1", "Case #1 is already closed by <@U0AGENT1>"),
        (OUTSIDER, ActionId.REOPEN, "1", "Only the requester or an agent or manager of"),
        (AGENT, ActionId.CLAIM, "abc", "That button does not point at a case any more."),
        (AGENT, ActionId.LIST_MORE, "{not json", "That list is out of date; run `/case list`"),
    ]

    problems = {
        f"{user} clicks {action_id}({value})": problem
        for user, action_id, value, told in clicks
        if (
            problem := refusal_problem(
                fake_slack, casedesk, partial(slack.click, user, action_id, value), told
            )
        )
    }

    assert problems == {}
