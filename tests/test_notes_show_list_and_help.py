"""`/case note`, `show`, `list` and help, delivered by Slack over signed HTTP: an internal note
in the thread, the details of a case, lists ten cases at a time, and help for empty or unknown
subcommands."""

from __future__ import annotations

from conftest import AGENT, OUTSIDER, REQUESTER
from fake_slack import FakeSlack
from helpers import Json, button_elements
from slack_commands_helpers import buttons, claimed_case, event_of, latest_in_thread, sources
from slack_driver import SlackDriver

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk

# Helpers: what people see


def button_value(message: Json, action_id: str) -> str:
    return next(
        str(element["value"])
        for element in button_elements(message)
        if element["action_id"] == action_id
    )


# note, show, list, help


def test_agent_adds_an_internal_note_in_the_thread_without_touching_the_card(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)
    fake_slack.clear()

    result = slack.command(AGENT, "note 1 Customer is on the enterprise plan")

    assert "Note added to case #1." in result.reply_text
    assert fake_slack.calls_to("chat.update") == []
    assert (
        ":memo: Internal note from <@U0AGENT1>: Customer is on the enterprise plan"
        in latest_in_thread(fake_slack, card_ts)
    )
    assert sources(casedesk, "note") == ["command"]
    assert event_of(casedesk, "note").details["text"] == "Customer is on the enterprise plan"


def test_show_gives_the_details_and_the_latest_events(slack: SlackDriver) -> None:
    card_ts = claimed_case(slack)

    result = slack.command(OUTSIDER, "show #1")

    shown = result.reply_text
    assert "#1 · Printer on fire" in shown
    assert "*Assignee*\n<@U0AGENT1>" in shown
    assert "*Latest activity*" in shown
    assert shown.index("<@U0REQUESTER> opened this case.") < shown.index(
        "<@U0AGENT1> claimed this case."
    )
    assert f"archives/C0SUPPORT/p{card_ts.replace('.', '')}|Open the case thread>" in shown
    assert [buttons(response) for response in result.responses] == [[]]  # not a second card


def test_showing_a_case_again_does_not_ask_slack_for_its_link_again(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    card_ts = claimed_case(slack)
    link = f"archives/C0SUPPORT/p{card_ts.replace('.', '')}|Open the case thread>"
    fake_slack.fail_next("chat.getPermalink", error="internal_error")

    unlinked = slack.command(OUTSIDER, "show 1").reply_text  # Slack could not say
    shown = [slack.command(OUTSIDER, "show 1").reply_text for _ in range(3)]

    assert "#1 · Printer on fire" in unlinked
    assert link not in unlinked
    assert all(link in text for text in shown)
    assert len(fake_slack.calls_to("chat.getPermalink")) == 2  # the failure, then once


def test_list_pages_ten_cases_at_a_time_and_next_replaces_the_list_with_the_rest(
    slack: SlackDriver,
) -> None:
    for number in range(1, 13):
        slack.command(REQUESTER, f"open Case number {number}")

    first_page = slack.command(AGENT, "list")

    [page] = first_page.responses
    assert page["text"] == "Open cases: " + ", ".join(f"#{n}" for n in range(12, 2, -1))
    assert "Open cases (1–10)" in first_page.reply_text
    assert (buttons(page), "Next 10" in first_page.reply_text) == ([ActionId.LIST_MORE], True)

    rest = slack.click(AGENT, ActionId.LIST_MORE, button_value(page, ActionId.LIST_MORE))

    [second_page] = rest.responses
    assert second_page["replace_original"] is True
    assert second_page["text"] == "Open cases: #2, #1"
    assert "Open cases (11–12)" in rest.reply_text
    assert buttons(second_page) == []


def test_list_shows_only_the_cases_asked_for(slack: SlackDriver) -> None:
    claimed_case(slack)
    slack.command(REQUESTER, "open Second case")

    mine = slack.command(AGENT, "list mine")
    unassigned = slack.command(AGENT, "list unassigned")
    closed = slack.command(AGENT, "list closed")

    assert mine.responses[0]["text"] == "Your open cases: #1"
    assert unassigned.responses[0]["text"] == "Unassigned cases: #2"
    assert "No closed cases." in closed.reply_text


def test_empty_text_shows_the_help(slack: SlackDriver) -> None:
    result = slack.command(REQUESTER, "")

    assert result.status == 200
    assert "*Casedesk* runs support cases right here in Slack." in result.reply_text
    for usage in ("/case open [p1-p4] [team:<key>] <title>", "/case claim <case>", "/case help"):
        assert usage in result.reply_text
    assert "I don't know" not in result.reply_text


def test_an_unknown_subcommand_gets_help_with_a_did_you_mean(slack: SlackDriver) -> None:
    result = slack.command(AGENT, "clam 1")

    assert "I don't know `/case clam`. Did you mean `/case claim`?" in result.reply_text
    assert "/case close <case> <resolution>" in result.reply_text
