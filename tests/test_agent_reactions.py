"""Agents work cases with reactions: :eyes: claims a case and its assignee's (or a manager's)
:white_check_mark: closes it, on the case's card and on the requester's own message alike.
Anyone else's reaction is explained to them privately and changes nothing."""

from __future__ import annotations

import pytest
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_AGENT,
    BILLING_CHANNEL,
    HELP_CHANNEL,
    MANAGER,
    OUTSIDER,
    REQUESTER,
    SUPPORT_CHANNEL,
)
from fake_slack import FakeSlack
from helpers import MINUTE, Json, all_text, case_count, case_row, open_case
from intake_helpers import AUTO_INTAKE_YAML, RANDOM_CHANNEL, conversation, reaction_added, write
from slack_commands_helpers import audit, card, run, sources
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.desk import DeskConfig, parse_desk_config
from bot.runtime.casedesk import Casedesk
from models import CaseStatus

RESOLVED = "Resolved from a reaction"


@pytest.fixture
def desk_config() -> DeskConfig:
    """Support's help channel (C0HELP) opens cases by itself; billing claims with
    :raising_hand: instead of :eyes: (and resolves with the default :white_check_mark:)."""
    billing = "    default_priority: p2\n"
    return parse_desk_config(
        AUTO_INTAKE_YAML.replace(billing, billing + "    reactions: {claim: raising_hand}\n"),
        source="test desk",
    )


def told(fake: FakeSlack, user: str, channel: str | None = None) -> str:
    """What `user` was told privately (in `channel`, if given), one line per message."""
    return "\n".join(
        str(ephemeral["text"])
        for ephemeral in fake.ephemerals(user)
        if channel in (None, ephemeral["channel"])
    )


def asked_in_help_channel(slack: SlackDriver, fake: FakeSlack) -> tuple[Json, str]:
    """The requester asks in the help channel: case #1, its message and its card's ts."""
    asked = write(slack, "Checkout fails for EU customers")
    return asked, str(card(fake)["ts"])


def claims(casedesk: Casedesk) -> int:
    return [action for action, _ in audit(casedesk)].count("claimed")


# Claiming


def test_an_agents_eyes_on_the_card_claims_the_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")

    case = case_row(casedesk)
    assert (case.assignee_id, case.status) == (AGENT, CaseStatus.IN_PROGRESS)
    assert sources(casedesk, "claimed") == ["reaction"]
    assert "You claimed case #1." in told(fake_slack, AGENT, SUPPORT_CHANNEL)
    assert f"<@{AGENT}>" in all_text(card(fake_slack))


def test_an_agents_eyes_on_the_requesters_message_claims_it_and_the_requester_is_told(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked, _ = asked_in_help_channel(slack, fake_slack)

    slack.react(AGENT_2, HELP_CHANNEL, asked["ts"], "eyes")  # an agent through the user group

    assert case_row(casedesk).assignee_id == AGENT_2
    assert sources(casedesk, "claimed") == ["reaction"]
    assert "You claimed case #1." in told(fake_slack, AGENT_2, HELP_CHANNEL)
    assert f"<@{AGENT_2}> is on it." in conversation(fake_slack, asked)[-1]


def test_a_case_made_of_a_message_with_the_ticket_emoji_is_claimed_with_eyes_on_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops every 10 minutes", channel=RANDOM_CHANNEL)
    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")
    assert case_count(casedesk) == 1

    slack.react(AGENT, RANDOM_CHANNEL, asked["ts"], "eyes")

    assert case_row(casedesk).assignee_id == AGENT
    assert [action for action, _ in audit(casedesk)][:2] == ["opened", "claimed"]


def test_eyes_on_a_case_someone_has_already_claimed_says_who_has_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked, card_ts = asked_in_help_channel(slack, fake_slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")

    slack.react(AGENT_2, HELP_CHANNEL, asked["ts"], "eyes")

    assert case_row(casedesk).assignee_id == AGENT
    assert f"Case #1 is already claimed by <@{AGENT}>" in told(fake_slack, AGENT_2)
    assert claims(casedesk) == 1


@pytest.mark.parametrize("who", [REQUESTER, OUTSIDER, BILLING_AGENT])
def test_eyes_by_someone_who_is_no_agent_of_the_team_is_explained_and_changes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, who: str
) -> None:
    asked, card_ts = asked_in_help_channel(slack, fake_slack)
    answers_before = conversation(fake_slack, asked)

    slack.react(who, HELP_CHANNEL, asked["ts"], "eyes")
    slack.react(who, SUPPORT_CHANNEL, card_ts, "eyes")

    assert case_row(casedesk).assignee_id is None
    assert claims(casedesk) == 0
    refusal = "Only agents and managers of Customer Support can claim cases."
    assert told(fake_slack, who, HELP_CHANNEL) == refusal
    assert told(fake_slack, who, SUPPORT_CHANNEL) == refusal
    assert conversation(fake_slack, asked) == answers_before


def test_eyes_on_a_closed_case_says_it_is_closed(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)
    run(slack, AGENT, "close 1 Replaced the toner", "You closed case #1")

    slack.react(AGENT_2, SUPPORT_CHANNEL, card_ts, "eyes")

    assert case_row(casedesk).is_closed
    assert "Case #1 is already closed" in told(fake_slack, AGENT_2)
    assert claims(casedesk) == 0


# Resolving


def test_the_assignees_check_mark_closes_the_case_and_the_requester_is_told(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    asked, card_ts = asked_in_help_channel(slack, fake_slack)
    slack.react(AGENT, HELP_CHANNEL, asked["ts"], "eyes")
    clock.advance(10 * MINUTE)

    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "white_check_mark")

    case = case_row(casedesk)
    assert (case.status, case.resolution, case.closed_by) == (CaseStatus.CLOSED, RESOLVED, AGENT)
    assert sources(casedesk, "closed") == ["reaction"]
    assert "You closed case #1." in told(fake_slack, AGENT, SUPPORT_CHANNEL)
    assert f"Resolved: {RESOLVED}" in conversation(fake_slack, asked)[-1]
    # The resolution can be told in words afterwards.
    run(slack, AGENT, "note 1 Cleared the EU payment cache", "Note added to case #1")


def test_the_assignees_check_mark_on_the_requesters_message_closes_it_too(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked, card_ts = asked_in_help_channel(slack, fake_slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")

    slack.react(AGENT, HELP_CHANNEL, asked["ts"], "white_check_mark")

    assert (case_row(casedesk).status, case_row(casedesk).resolution) == (
        CaseStatus.CLOSED,
        RESOLVED,
    )
    assert "You closed case #1." in told(fake_slack, AGENT, HELP_CHANNEL)


def test_a_manager_may_close_a_case_someone_else_has_with_a_check_mark(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")

    slack.react(MANAGER, SUPPORT_CHANNEL, card_ts, "white_check_mark")

    assert (case_row(casedesk).closed_by, case_row(casedesk).resolution) == (MANAGER, RESOLVED)


def test_a_check_mark_by_an_agent_who_is_not_the_assignee_is_refused_privately(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked, card_ts = asked_in_help_channel(slack, fake_slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")
    answers_before = conversation(fake_slack, asked)

    slack.react(AGENT_2, SUPPORT_CHANNEL, card_ts, "white_check_mark")

    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assert told(fake_slack, AGENT_2, SUPPORT_CHANNEL) == (
        f"Only <@{AGENT}>, who has case #1, or a manager of Customer Support can close it "
        "with :white_check_mark:. To close it yourself, with a resolution: "
        "/case close 1 <resolution>."
    )
    assert conversation(fake_slack, asked) == answers_before


def test_a_check_mark_on_a_case_nobody_has_yet_closes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "white_check_mark")

    assert case_row(casedesk).status is CaseStatus.OPEN
    nobody = "Nobody has case #1 yet, so :white_check_mark: does not close it: claim it first"
    assert nobody in told(fake_slack, AGENT)


@pytest.mark.parametrize("who", [REQUESTER, OUTSIDER])
def test_a_check_mark_by_someone_who_is_no_agent_is_explained_and_changes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, who: str
) -> None:
    asked, card_ts = asked_in_help_channel(slack, fake_slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")

    slack.react(who, HELP_CHANNEL, asked["ts"], "white_check_mark")

    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assert told(fake_slack, who) == "Only agents and managers of Customer Support can close cases."


def test_a_check_mark_on_a_closed_case_says_it_is_closed(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")
    run(slack, AGENT, "close 1 Replaced the toner", "You closed case #1")

    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "white_check_mark")

    assert case_row(casedesk).resolution == "Replaced the toner"
    assert "Case #1 is already closed" in told(fake_slack, AGENT)


# A team's own emoji


def test_a_team_with_its_own_claim_emoji_claims_with_it_and_not_with_eyes(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    run(slack, REQUESTER, "open team:billing Invoice 1042 is wrong", "Opened case #1")
    card_ts = str(card(fake_slack, BILLING_CHANNEL)["ts"])

    slack.react(BILLING_AGENT, BILLING_CHANNEL, card_ts, "eyes")
    assert case_row(casedesk).assignee_id is None
    assert fake_slack.ephemerals(BILLING_AGENT) == []

    slack.react(BILLING_AGENT, BILLING_CHANNEL, card_ts, "raising_hand")
    assert case_row(casedesk).assignee_id == BILLING_AGENT

    slack.react(BILLING_AGENT, BILLING_CHANNEL, card_ts, "white_check_mark")
    assert case_row(casedesk).resolution == RESOLVED


def test_a_skin_tone_is_the_same_emoji(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    run(slack, REQUESTER, "open team:billing Invoice 1042 is wrong", "Opened case #1")
    card_ts = str(card(fake_slack, BILLING_CHANNEL)["ts"])

    slack.react(BILLING_AGENT, BILLING_CHANNEL, card_ts, "raising_hand::skin-tone-3")

    assert case_row(casedesk).assignee_id == BILLING_AGENT


# Nothing twice, nothing elsewhere, nothing taken back


def test_the_same_reaction_delivered_twice_claims_once_and_says_it_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes", event_id="EvEYES1")
    slack.event(reaction_added(AGENT, SUPPORT_CHANNEL, card_ts, "eyes", "UBOT"), event_id="EvEYES1")

    assert claims(casedesk) == 1
    assert told(fake_slack, AGENT) == "You claimed case #1."


def test_the_same_close_delivered_twice_closes_once_and_says_it_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked, card_ts = asked_in_help_channel(slack, fake_slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")
    check_mark = reaction_added(AGENT, HELP_CHANNEL, asked["ts"], "white_check_mark", REQUESTER)

    slack.event(check_mark, event_id="EvDONE1")
    slack.event(check_mark, event_id="EvDONE1")

    assert [action for action, _ in audit(casedesk)].count("closed") == 1
    assert told(fake_slack, AGENT).count("You closed case #1.") == 1
    assert "already closed" not in told(fake_slack, AGENT)
    assert sum(RESOLVED in text for text in conversation(fake_slack, asked)) == 1


def test_reactions_on_other_messages_do_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    _, card_ts = asked_in_help_channel(slack, fake_slack)
    clock.advance(MINUTE)
    follow_up = write(slack, "Also on mobile")  # joins case #1, but is not its first message
    unrelated = write(slack, "Lunch anyone?", user=AGENT, channel=RANDOM_CHANNEL)
    reply, _ = slack.post_message(AGENT, SUPPORT_CHANNEL, "Looking", thread_ts=card_ts)

    for channel, ts in [
        (HELP_CHANNEL, follow_up["ts"]),
        (RANDOM_CHANNEL, unrelated["ts"]),
        (SUPPORT_CHANNEL, reply["ts"]),
    ]:
        slack.react(AGENT, channel, ts, "eyes")
        slack.react(MANAGER, channel, ts, "white_check_mark")

    assert case_row(casedesk).assignee_id is None
    assert case_row(casedesk).status is CaseStatus.OPEN
    assert fake_slack.ephemerals(AGENT) == fake_slack.ephemerals(MANAGER) == []
    assert case_count(casedesk) == 1


def test_eyes_on_the_old_card_of_a_case_that_moved_teams_do_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    old_card = open_case(slack)
    run(slack, AGENT, "escalate 1 to billing Refund needs finance", "escalated")

    slack.react(BILLING_AGENT, SUPPORT_CHANNEL, old_card, "raising_hand")
    slack.react(AGENT, SUPPORT_CHANNEL, old_card, "eyes")

    assert case_row(casedesk).assignee_id is None
    assert fake_slack.ephemerals(AGENT) == fake_slack.ephemerals(BILLING_AGENT) == []


def test_reactions_taken_back_change_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")
    slack.react(AGENT, SUPPORT_CHANNEL, card_ts, "white_check_mark")
    events = audit(casedesk)

    slack.unreact(AGENT, SUPPORT_CHANNEL, card_ts, "white_check_mark")
    slack.unreact(AGENT, SUPPORT_CHANNEL, card_ts, "eyes")

    assert audit(casedesk) == events
    assert (case_row(casedesk).assignee_id, case_row(casedesk).is_closed) == (AGENT, True)
