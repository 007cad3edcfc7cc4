"""A team's help channel with `intake.auto`: every new message by someone outside the team
becomes a case, answered in its thread; the same person's next messages soon after join
it; thanks, bots, edits and the team's own talk open nothing."""

from __future__ import annotations

import threading

import pytest
from conftest import AGENT, HELP_CHANNEL, MANAGER, OUTSIDER, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import MINUTE, another_process, case_count, case_row
from intake_helpers import AUTO_INTAKE_YAML, RANDOM_CHANNEL, conversation, messages_of_case, write
from slack_commands_helpers import audit
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.desk import DeskConfig, parse_desk_config
from bot.intake.messages import IncomingMessage
from bot.runtime.casedesk import Casedesk
from models import CaseSource, CaseStatus


@pytest.fixture
def desk_config() -> DeskConfig:
    return parse_desk_config(AUTO_INTAKE_YAML, source="test desk")


def test_a_message_in_the_help_channel_opens_a_case_answered_in_its_thread(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "Checkout fails for EU customers, screenshot attached")

    case = case_row(casedesk)
    assert (case.requester_id, case.source, case.team_key, case.status) == (
        REQUESTER,
        CaseSource.CHANNEL,
        "support",
        CaseStatus.OPEN,
    )
    assert audit(casedesk)[0] == ("opened", "channel")
    [answer] = conversation(fake_slack, asked)
    assert "Case #1 is open: Customer Support will answer here." in answer
    assert len(fake_slack.messages(SUPPORT_CHANNEL)) == 1  # the card


def test_the_same_persons_next_messages_soon_after_join_their_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    first = write(slack, "Checkout fails for EU customers")
    clock.advance(MINUTE)
    second = write(slack, "Also on mobile")
    clock.advance(2 * MINUTE)
    third = write(slack, "And the app")

    assert case_count(casedesk) == 1
    assert messages_of_case(casedesk, 1) == [first["ts"], second["ts"], third["ts"]]
    assert [action for action, _ in audit(casedesk)].count("customer_replied") == 2
    assert conversation(fake_slack, second) == []

    clock.advance(4 * MINUTE)
    write(slack, "Different thing: I cannot log in")
    assert case_count(casedesk) == 2


def test_another_person_gets_a_case_of_their_own(slack: SlackDriver, casedesk: Casedesk) -> None:
    write(slack, "Checkout fails")
    write(slack, "Same here", user=OUTSIDER)

    assert case_count(casedesk) == 2
    assert case_row(casedesk, 2).requester_id == OUTSIDER


@pytest.mark.parametrize("thanks", ["Thanks!", "thank you 🙏", "ok", "+1", ":tada:"])
def test_only_thanks_opens_no_case(slack: SlackDriver, casedesk: Casedesk, thanks: str) -> None:
    write(slack, thanks)

    assert case_count(casedesk) == 0


def test_the_teams_own_people_bots_edits_and_other_channels_open_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    write(slack, "Heads up: deploy at 5", user=AGENT)
    write(slack, "Reminder: on call rota", user=MANAGER)
    write(slack, "Hello from a channel that is not a help channel", channel=RANDOM_CHANNEL)
    casedesk.client.chat_postMessage(channel=HELP_CHANNEL, text="Bot says hi")
    slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": HELP_CHANNEL,
            "ts": "1700000001.000200",
            "message": {"user": REQUESTER, "text": "edited", "ts": "1700000000.000100"},
        }
    )
    slack.event(
        {
            "type": "message",
            "subtype": "channel_join",
            "channel": HELP_CHANNEL,
            "user": OUTSIDER,
            "ts": "1700000002.000200",
            "text": "<@U0OUTSIDER> has joined the channel",
        }
    )

    assert case_count(casedesk) == 0


def test_a_reply_in_a_thread_of_the_help_channel_opens_no_case(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    root = write(slack, "Anyone seen slow logins?", user=AGENT)
    slack.post_message(REQUESTER, HELP_CHANNEL, "yes, me", thread_ts=root["ts"])

    assert case_count(casedesk) == 0


def test_a_message_slack_delivers_twice_is_one_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked, _ = slack.post_message(REQUESTER, HELP_CHANNEL, "Checkout fails", event_id="EvM1")
    event = {
        "type": "message",
        "channel": HELP_CHANNEL,
        "user": REQUESTER,
        "text": "Checkout fails",
        "ts": asked["ts"],
        "channel_type": "channel",
    }
    slack.event(event, event_id="EvM1")  # Slack's retry
    slack.event(event, event_id="EvM1-other-id")  # the same message as another delivery

    assert case_count(casedesk) == 1
    assert len(conversation(fake_slack, asked)) == 1


@pytest.mark.parametrize("event_ids", [("EvSAME", "EvSAME"), ("EvONE", "EvTWO")])
def test_two_replicas_receiving_the_same_message_open_one_case(
    casedesk: Casedesk, fake_slack: FakeSlack, event_ids: tuple[str, str]
) -> None:
    with another_process(casedesk) as second_casedesk:
        both_receive(casedesk, second_casedesk, fake_slack, event_ids)

    assert case_count(casedesk) == 1
    casedesk.outbox.deliver_due()
    [message] = fake_slack.messages(HELP_CHANNEL)
    assert len(conversation(fake_slack, message)) == 1


def both_receive(
    casedesk: Casedesk, second_casedesk: Casedesk, fake_slack: FakeSlack, ids: tuple[str, str]
) -> None:
    """The same message, handled by two processes at the same moment (as the same event,
    or as two deliveries of it)."""
    posted = fake_slack.post_as_user(HELP_CHANNEL, REQUESTER, "Checkout fails")
    incoming = IncomingMessage.from_slack(HELP_CHANNEL, posted)
    start = threading.Barrier(2)

    def receive(replica: Casedesk, event_id: str) -> None:
        start.wait()
        replica.intake.channel_message(event_id=event_id, incoming=incoming)

    replicas = zip((casedesk, second_casedesk), ids, strict=True)
    threads = [threading.Thread(target=receive, args=pair) for pair in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
