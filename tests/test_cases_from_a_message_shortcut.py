"""An agent turns a message into a case with the message shortcut "Open a case": the form
comes filled in from the message, the message's author is the requester, and the case
remembers the message."""

from __future__ import annotations

from conftest import AGENT, AGENT_2, HELP_CHANNEL, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import Json, all_text, case_count, case_row
from intake_helpers import conversation, permalink, write
from slack_commands_helpers import audit, card, event_of
from slack_driver import SlackDriver

from bot.runtime.casedesk import Casedesk
from models import CaseSource

REQUEST = "Checkout fails for EU customers\nSince 09:00, every card is declined."


def input_value(view: Json, block_id: str) -> object:
    """What an input of the form shows before anyone types."""
    [block] = [block for block in view["blocks"] if block.get("block_id") == block_id]
    element = block["element"]
    return element.get("initial_value") or (element.get("initial_option") or {}).get("value")


def test_the_shortcut_opens_the_form_filled_in_from_the_message(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    asked = write(slack, REQUEST)

    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])

    form = fake_slack.opened_views()[-1]
    assert input_value(form, "title") == "Checkout fails for EU customers"
    assert input_value(form, "description") == REQUEST
    assert (input_value(form, "team"), input_value(form, "priority")) == ("support", "p3")
    assert f"From a message by <@{REQUESTER}> in <#{HELP_CHANNEL}>" in all_text(form)


def test_an_agent_opens_a_case_for_the_author_of_a_message(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, REQUEST)
    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])

    opened = slack.submit(AGENT, fake_slack.opened_views()[-1], {})

    assert opened.status == 200
    case = case_row(casedesk)
    assert (case.requester_id, case.source, case.title) == (
        REQUESTER,
        CaseSource.SHORTCUT,
        "Checkout fails for EU customers",
    )
    assert case.description == REQUEST
    assert (case.conversation_channel_id, case.message_ts) == (HELP_CHANNEL, asked["ts"])
    assert audit(casedesk)[0] == ("opened", "shortcut")
    assert event_of(casedesk, "opened").actor_id == AGENT
    told = [all_text(e) for e in fake_slack.ephemerals(AGENT)]
    assert any("Opened case #1" in text for text in told), told


def test_the_case_links_to_its_message_on_the_card_and_in_case_show(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    asked = write(slack, REQUEST)
    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])
    slack.submit(AGENT, fake_slack.opened_views()[-1], {})

    link = permalink(fake_slack, HELP_CHANNEL, asked["ts"])
    on_card = all_text(card(fake_slack))
    assert f"From <{link}|a message> by <@{REQUESTER}> in <#{HELP_CHANNEL}>" in on_card
    assert f"<{link}|a message>" in slack.command(AGENT, "show 1").reply_text
    first_post = fake_slack.thread(SUPPORT_CHANNEL, card(fake_slack)["ts"])
    trail = slack.command(AGENT, "show 1").reply_text
    assert f"<@{AGENT}> opened this case from a message by <@{REQUESTER}>" in trail, first_post


def test_the_requester_is_answered_in_their_own_thread(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    asked = write(slack, REQUEST)
    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])
    slack.submit(AGENT, fake_slack.opened_views()[-1], {})

    [answer] = conversation(fake_slack, asked)
    assert "Case #1 is open: Customer Support will answer here." in answer
    assert "P3" in answer


def test_a_message_that_is_a_case_already_says_which_privately(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, REQUEST)
    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])
    slack.submit(AGENT, fake_slack.opened_views()[-1], {})
    forms = len(fake_slack.opened_views())

    again = slack.shortcut(AGENT_2, HELP_CHANNEL, asked["ts"])

    assert "This message is already case #1." in again.reply_text
    card_link = permalink(fake_slack, SUPPORT_CHANNEL, card(fake_slack)["ts"])
    assert f"<{card_link}|Open it>" in again.reply_text
    assert len(fake_slack.opened_views()) == forms
    assert case_count(casedesk) == 1


def test_sending_the_same_form_twice_opens_one_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, REQUEST)
    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])
    form = fake_slack.opened_views()[-1]
    slack.shortcut(AGENT_2, HELP_CHANNEL, asked["ts"])
    second_form = fake_slack.opened_views()[-1]

    slack.submit(AGENT, form, {})
    slack.submit(AGENT_2, second_form, {})

    assert case_count(casedesk) == 1
    told = [all_text(e) for e in fake_slack.ephemerals(AGENT_2)]
    assert any("This message is already case #1." in text for text in told), told
    assert len(conversation(fake_slack, asked)) == 1


def test_a_reply_in_a_thread_becomes_a_case_answered_in_that_thread(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    root = write(slack, "Anyone else seeing slow logins?", user=AGENT_2)
    reply, _ = slack.post_message(REQUESTER, HELP_CHANNEL, "Yes, 30 s here", thread_ts=root["ts"])

    slack.shortcut(AGENT, HELP_CHANNEL, reply["ts"])
    slack.submit(AGENT, fake_slack.opened_views()[-1], {})

    case = case_row(casedesk)
    assert (case.requester_id, case.message_ts, case.conversation_ts) == (
        REQUESTER,
        reply["ts"],
        root["ts"],
    )
    assert any("Case #1 is open" in text for text in conversation(fake_slack, root))


def test_a_bots_message_is_nobodys_request(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    posted = casedesk.client.chat_postMessage(channel=HELP_CHANNEL, text="Deploy finished")

    refused = slack.shortcut(AGENT, HELP_CHANNEL, posted["ts"])

    assert "written by a bot or an app" in refused.reply_text
    assert case_count(casedesk) == 0


def test_a_message_in_a_channel_the_bot_is_not_in_asks_to_invite_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    fake_slack.outside_channels.add("C0PRIVATE")
    asked = write(slack, REQUEST, channel="C0PRIVATE")

    refused = slack.shortcut(AGENT, "C0PRIVATE", asked["ts"])

    assert "Casedesk is not in <#C0PRIVATE>" in refused.reply_text
    assert "/invite @Casedesk" in refused.reply_text
    assert case_count(casedesk) == 0


def test_a_message_deleted_before_the_form_is_sent_opens_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, REQUEST)
    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])
    fake_slack.delete_message(HELP_CHANNEL, asked["ts"])

    slack.submit(AGENT, fake_slack.opened_views()[-1], {})

    told = [all_text(e) for e in fake_slack.ephemerals(AGENT)]
    assert any("That message is gone" in text for text in told), told
    assert case_count(casedesk) == 0


def test_what_the_agent_changes_in_the_form_is_what_the_case_says(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = write(slack, REQUEST)
    slack.shortcut(AGENT, HELP_CHANNEL, asked["ts"])

    slack.submit(
        AGENT,
        fake_slack.opened_views()[-1],
        {"title": "EU card payments declined", "priority": "p1", "team": "billing"},
    )

    case = case_row(casedesk)
    assert (case.title, case.priority, case.team_key, case.requester_id) == (
        "EU card payments declined",
        "p1",
        "billing",
        REQUESTER,
    )
    assert case.description == REQUEST
