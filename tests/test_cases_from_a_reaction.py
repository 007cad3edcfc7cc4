"""Anyone reacts to a message with the team's intake emoji (:ticket: by default) and it
becomes a case at once, for the message's author, exactly once."""

from __future__ import annotations

import threading

import pytest
from conftest import AGENT, AGENT_2, DESK_YAML, OUTSIDER, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import MINUTE, all_text, another_process, case_count, case_row, run_job
from intake_helpers import RANDOM_CHANNEL, conversation, reaction_added, write
from slack_commands_helpers import audit, card, event_of
from slack_driver import SlackDriver

from bot.cases.views.replies import notice
from bot.clock import ManualClock
from bot.desk import DeskConfig, parse_desk_config
from bot.intake.views import MessageForm
from bot.requester import Requester
from bot.runtime.casedesk import Casedesk
from models import CaseSource, EventSource

INVOICES = "C0INVOICES"  # billing's help channel


@pytest.fixture
def desk_config() -> DeskConfig:
    """Billing opens cases from :sos: reactions in its channels; support keeps :ticket:."""
    billing = "    default_priority: p2\n"
    return parse_desk_config(
        DESK_YAML.replace(billing, billing + "    intake: {emoji: sos}\n"), source="test desk"
    )


def told(fake: FakeSlack, user: str) -> str:
    """What `user` was told privately, one line per message (as notifications show it)."""
    return "\n".join(str(ephemeral["text"]) for ephemeral in fake.ephemerals(user))


def test_a_ticket_reaction_opens_a_case_for_the_author_of_the_message(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops every 10 minutes", channel=RANDOM_CHANNEL)

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")

    case = case_row(casedesk)
    assert (case.requester_id, case.source, case.team_key) == (
        REQUESTER,
        CaseSource.EMOJI,
        "support",
    )
    assert case.title == "The VPN drops every 10 minutes"
    assert audit(casedesk)[0] == ("opened", "reaction")
    assert event_of(casedesk, "opened").actor_id == OUTSIDER
    assert fake_slack.opened_views() == []
    assert "Opened case #1" in told(fake_slack, OUTSIDER)
    assert any("Case #1 is open" in text for text in conversation(fake_slack, asked))
    assert "Printer" not in all_text(card(fake_slack))


def test_reacting_again_says_privately_that_it_is_a_case_already(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops", channel=RANDOM_CHANNEL)
    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")

    slack.react(AGENT, RANDOM_CHANNEL, asked["ts"], "ticket")

    assert "This message is already case #1." in told(fake_slack, AGENT)
    assert case_count(casedesk) == 1
    assert len(conversation(fake_slack, asked)) == 1


def test_a_reaction_slack_delivers_twice_opens_one_case_and_says_nothing_twice(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops", channel=RANDOM_CHANNEL)

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket", event_id="EvREACT1")
    slack.event(
        reaction_added(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket", REQUESTER),
        event_id="EvREACT1",
    )

    assert case_count(casedesk) == 1
    assert len(fake_slack.ephemerals(OUTSIDER)) == 1


def test_other_reactions_and_reactions_taken_back_change_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops", channel=RANDOM_CHANNEL)

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "thumbsup")
    assert case_count(casedesk) == 0

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")
    slack.unreact(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")

    assert case_count(casedesk) == 1
    assert case_row(casedesk).is_closed is False


def test_each_team_has_its_own_intake_emoji(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "Invoice 1042 is wrong", channel=INVOICES)

    slack.react(OUTSIDER, INVOICES, asked["ts"], "ticket")
    assert case_count(casedesk) == 0

    slack.react(OUTSIDER, INVOICES, asked["ts"], "sos")
    assert (case_row(casedesk).team_key, case_row(casedesk).priority) == ("billing", "p2")


def test_a_message_with_only_a_file_is_titled_by_its_file_name(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked, _ = slack.post_message(
        REQUESTER,
        RANDOM_CHANNEL,
        "",
        subtype="file_share",
        files=[{"id": "F1", "name": "crash.log", "title": "crash.log", "mimetype": "text/plain"}],
    )

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")

    assert case_row(casedesk).title == "crash.log"


def test_a_message_over_forty_thousand_characters_is_cut_with_a_note(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "Full log below\n" + "x" * 45_000, channel=RANDOM_CHANNEL)

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")

    case = case_row(casedesk)
    assert len(case.description) == 40_000
    assert "the message had 45,015 characters" in slack.command(AGENT, "show 1").reply_text


def test_a_reaction_on_a_bots_message_is_explained_privately(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    posted = casedesk.client.chat_postMessage(channel=RANDOM_CHANNEL, text="Build green")

    slack.react(AGENT, RANDOM_CHANNEL, str(posted["ts"]), "ticket")

    assert "written by a bot or an app" in told(fake_slack, AGENT)
    assert case_count(casedesk) == 0


def test_a_reaction_on_a_message_deleted_meanwhile_opens_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops", channel=RANDOM_CHANNEL)
    fake_slack.react(RANDOM_CHANNEL, asked["ts"], OUTSIDER, "ticket")
    fake_slack.delete_message(RANDOM_CHANNEL, asked["ts"])  # before the bot reads it

    slack.event(reaction_added(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket", REQUESTER))

    assert "That message is gone" in told(fake_slack, OUTSIDER)
    assert case_count(casedesk) == 0


def test_a_person_of_another_workspace_is_the_requester_by_their_id(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    fake_slack.fail_next("users.info", error="user_not_found", times=10)
    asked = write(slack, "Shared channel question", user="W0PARTNER", channel=RANDOM_CHANNEL)

    slack.react(AGENT_2, RANDOM_CHANNEL, asked["ts"], "ticket")

    assert case_row(casedesk).requester_id == "W0PARTNER"


def test_slack_failing_while_the_case_opens_loses_nothing_and_posts_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    asked = write(slack, "The VPN drops", channel=RANDOM_CHANNEL)
    fake_slack.fail_next("chat.postMessage", status=500, times=10)

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")

    assert case_count(casedesk) == 1
    assert conversation(fake_slack, asked) == []
    fake_slack.clear_faults()
    clock.advance(5 * MINUTE)
    run_job(casedesk, "deliver-outbox")
    run_job(casedesk, "deliver-outbox")

    assert len(conversation(fake_slack, asked)) == 1
    assert len(fake_slack.messages(SUPPORT_CHANNEL)) == 1


def test_a_reaction_on_a_message_made_a_case_with_the_shortcut_says_it_is_one(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops", channel=RANDOM_CHANNEL)
    slack.shortcut(AGENT, RANDOM_CHANNEL, asked["ts"])
    slack.submit(AGENT, fake_slack.opened_views()[-1], {})

    slack.react(OUTSIDER, RANDOM_CHANNEL, asked["ts"], "ticket")

    assert "This message is already case #1." in told(fake_slack, OUTSIDER)
    assert case_count(casedesk) == 1


def test_a_reaction_and_a_sent_form_at_the_same_moment_on_two_processes_are_one_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, "The VPN drops", channel=RANDOM_CHANNEL)
    clicker = Requester(AGENT, RANDOM_CHANNEL, EventSource.SHORTCUT)
    reactor = Requester(OUTSIDER, RANDOM_CHANNEL, EventSource.REACTION)
    form = MessageForm(RANDOM_CHANNEL, asked["ts"])
    start = threading.Barrier(2)
    with another_process(casedesk) as other:

        def send_form() -> None:
            start.wait()
            casedesk.intake.tell(clicker, casedesk.intake.submit(clicker, form, {}) or notice(""))

        def react() -> None:
            start.wait()
            other.intake.reaction(
                reactor, event_id="EvRACE", channel_id=RANDOM_CHANNEL, ts=asked["ts"]
            )

        threads = [threading.Thread(target=send_form), threading.Thread(target=react)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert case_count(casedesk) == 1
    said = told(fake_slack, AGENT) + told(fake_slack, OUTSIDER)
    assert said.count("Opened case #1") == 1
    assert said.count("This message is already case #1.") == 1
