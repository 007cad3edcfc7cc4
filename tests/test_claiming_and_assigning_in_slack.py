"""Claiming, assigning and unassigning delivered by Slack over signed HTTP (command and button):
the card is updated in place, the assignee is picked with autocomplete, and the audit trail
records where each came from."""

from __future__ import annotations

from conftest import AGENT, AGENT_2, MANAGER, START, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import all_text, case_row, open_case
from slack_commands_helpers import (
    audit,
    buttons,
    card,
    claimed_case,
    latest_in_thread,
    sources,
    thread_texts,
)
from slack_driver import SlackDriver

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CaseStatus

# claim, assign, unassign


def test_agent_claims_a_case_and_the_card_is_updated_in_place(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    result = slack.command(AGENT, "claim #1")

    assert "You claimed case #1." in result.reply_text
    update = fake_slack.last("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (SUPPORT_CHANNEL, card_ts)
    claimed_card = card(fake_slack)
    assert claimed_card["ts"] == card_ts
    assert "Case #1 (P3, in progress)" in claimed_card["text"]
    assert "*Assignee*\n<@U0AGENT1>" in all_text(claimed_card)
    assert buttons(claimed_card) == [ActionId.ASSIGN, ActionId.ESCALATE, ActionId.CLOSE]
    assert thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts) == [
        "Case #1: claimed\n:raising_hand: <@U0AGENT1> claimed this case."
    ]
    case = case_row(casedesk)
    assert (case.assignee_id, case.status, case.claimed_at) == (
        AGENT,
        CaseStatus.IN_PROGRESS,
        START,
    )
    assert audit(casedesk) == [("opened", "command"), ("claimed", "command")]


def test_claim_button_on_the_card_is_recorded_as_a_button_press(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    result = slack.click(AGENT_2, ActionId.CLAIM, "1", message_ts=card_ts)

    assert "You claimed case #1." in result.reply_text
    assert result.responses[0]["replace_original"] is False  # the card stays a card
    assert case_row(casedesk).assignee_id == AGENT_2
    assert sources(casedesk, "claimed") == ["button"]


def test_manager_assigns_a_case_to_an_agent_picked_with_autocomplete(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    result = slack.command(MANAGER, "assign 1 <@U0AGENT2|agent2>")

    assert "Case #1 is now assigned to <@U0AGENT2>." in result.reply_text
    assert "*Assignee*\n<@U0AGENT2>" in all_text(card(fake_slack))
    assert fake_slack.last("chat.update").params["ts"] == card_ts
    assert "<@U0MANAGER> assigned this case to <@U0AGENT2>." in latest_in_thread(
        fake_slack, card_ts
    )
    case = case_row(casedesk)
    assert (case.assignee_id, case.status) == (AGENT_2, CaseStatus.IN_PROGRESS)
    assert sources(casedesk, "assigned") == ["command"]


def test_assignee_hands_the_case_back_to_the_queue_with_unassign(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    result = slack.command(AGENT, "unassign 1")

    assert "Case #1 is unassigned now." in result.reply_text
    back_in_queue = card(fake_slack)
    assert "Case #1 (P3, open)" in back_in_queue["text"]
    assert "_unassigned_" in all_text(back_in_queue)
    assert buttons(back_in_queue) == [
        ActionId.CLAIM,
        ActionId.ASSIGN,
        ActionId.ESCALATE,
        ActionId.CLOSE,
    ]
    assert "<@U0AGENT1> unassigned <@U0AGENT1>." in latest_in_thread(fake_slack, card_ts)
    case = case_row(casedesk)
    assert (case.assignee_id, case.status) == (None, CaseStatus.OPEN)
    assert sources(casedesk, "unassigned") == ["command"]
