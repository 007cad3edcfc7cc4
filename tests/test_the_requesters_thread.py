"""For a case from a message, the requester's own thread is the conversation: an agent's
reply there is the first response, the requester's reply a customer reply, and the
changes the requester cares about are told there in plain words; the card's thread stays
the team's own."""

from __future__ import annotations

import pytest
from conftest import AGENT, HELP_CHANNEL, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import Json, case_row
from intake_helpers import AUTO_INTAKE_YAML, conversation, write
from slack_commands_helpers import audit, card, thread_texts
from slack_driver import SlackDriver

from bot.desk import DeskConfig, parse_desk_config
from bot.runtime.casedesk import Casedesk
from models import CaseStatus


@pytest.fixture
def desk_config() -> DeskConfig:
    return parse_desk_config(AUTO_INTAKE_YAML, source="test desk")


@pytest.fixture
def asked(slack: SlackDriver) -> Json:
    """The requester asked in the help channel: case #1."""
    return write(slack, "Checkout fails for EU customers")


def reply_in(slack: SlackDriver, message: Json, user: str, text: str) -> None:
    slack.post_message(user, message["channel"], text, thread_ts=message["ts"])


def test_an_agents_reply_in_the_requesters_thread_is_the_first_response(
    slack: SlackDriver, casedesk: Casedesk, asked: Json
) -> None:
    reply_in(slack, asked, AGENT, "Looking into it now")

    case = case_row(casedesk)
    assert (case.first_responder_id, case.first_response_at is not None) == (AGENT, True)
    assert ("responded", "thread") in audit(casedesk)


def test_an_agents_message_in_the_cards_thread_is_internal_and_no_response(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, asked: Json
) -> None:
    slack.post_message(AGENT, SUPPORT_CHANNEL, "Payments team?", thread_ts=card(fake_slack)["ts"])

    case = case_row(casedesk)
    assert (case.first_response_at, case.first_responder_id) == (None, None)
    assert "commented in the team's thread" in slack.command(AGENT, "show 1").reply_text


def test_the_requesters_reply_in_their_thread_resumes_a_pending_case(
    slack: SlackDriver, casedesk: Casedesk, asked: Json
) -> None:
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "pending 1 Which card brand?")

    reply_in(slack, asked, REQUESTER, "Visa")

    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assert ("customer_replied", "thread") in audit(casedesk)


def test_the_requester_hears_who_is_on_it_what_we_wait_for_and_the_resolution(
    slack: SlackDriver, fake_slack: FakeSlack, asked: Json
) -> None:
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "note 1 Probably the 3DS provider")
    slack.command(AGENT, "escalate 1 Needs payments engineering")
    slack.command(AGENT, "pending 1 Which card brand?")
    reply_in(slack, asked, REQUESTER, "Visa")
    slack.command(AGENT, "close 1 The 3DS provider fixed a certificate")
    slack.command(REQUESTER, "reopen 1 Still failing for Amex")

    told = conversation(fake_slack, asked)
    assert told[0].startswith(":inbox_tray: Case #1 is open")
    assert told[1:] == [
        f":raising_hand: <@{AGENT}> is on it.",
        ":hourglass_flowing_sand: Waiting on you: Which card brand?\nReply here when you can.",
        ":white_check_mark: Resolved: The 3DS provider fixed a certificate\n"
        "Not solved after all? `/case reopen 1 <what is still wrong>`",
        ":leftwards_arrow_with_hook: Case #1 is reopened: Still failing for Amex",
    ]
    internal = "\n".join(thread_texts(fake_slack, SUPPORT_CHANNEL, card(fake_slack)["ts"]))
    assert "Probably the 3DS provider" in internal
    assert "Needs payments engineering" in internal
    assert "Probably the 3DS provider" not in "\n".join(told)


def test_a_case_opened_with_the_command_keeps_its_card_thread_as_the_conversation(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Printer on fire", channel=HELP_CHANNEL)
    card_ts = fake_slack.messages(SUPPORT_CHANNEL)[-1]["ts"]

    slack.post_message(AGENT, SUPPORT_CHANNEL, "On my way", thread_ts=card_ts)

    assert case_row(casedesk).first_responder_id == AGENT
    assert fake_slack.messages(HELP_CHANNEL) == []  # nothing to answer there
