"""`/case open` delivered by Slack over signed HTTP: the card is posted in the team's channel,
the case is routed by the channel it was asked in, and without a title a form opens the case
with its description."""

from __future__ import annotations

from conftest import BILLING_CHANNEL, HELP_CHANNEL, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import case_row
from slack_commands_helpers import audit, buttons, card, event_count, thread_texts
from slack_driver import SlackDriver

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from models import CaseStatus

# /case open


def test_open_with_priority_and_team_posts_the_card_in_that_teams_channel(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    result = slack.command(REQUESTER, "open p1 team:billing Card declined twice")

    assert result.status == 200
    assert "Opened case #1 for Billing in <#C0BILLING>." in result.reply_text
    billing_card = card(fake_slack, BILLING_CHANNEL)
    assert billing_card["text"].startswith("Case #1 (P1, open): Card declined twice")
    assert buttons(billing_card) == [
        ActionId.CLAIM,
        ActionId.ASSIGN,
        ActionId.ESCALATE,
        ActionId.CLOSE,
    ]
    assert fake_slack.messages(SUPPORT_CHANNEL) == []
    case = case_row(casedesk)
    assert (case.title, case.team_key, case.priority, case.status) == (
        "Card declined twice",
        "billing",
        "p1",
        CaseStatus.OPEN,
    )
    assert (case.requester_id, case.channel_id, case.card_ts) == (
        REQUESTER,
        BILLING_CHANNEL,
        billing_card["ts"],
    )
    assert audit(casedesk) == [("opened", "command")]


def test_open_routes_the_case_by_the_channel_it_was_asked_in(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open Printer jammed", channel=HELP_CHANNEL)
    slack.command(REQUESTER, "open Invoice shows the wrong VAT", channel="C0INVOICES")
    slack.command(REQUESTER, "open Laptop will not boot", channel="C0RANDOM")

    cases = [case_row(casedesk, number) for number in (1, 2, 3)]
    assert [(case.team_key, case.priority, case.channel_id) for case in cases] == [
        ("support", "p3", SUPPORT_CHANNEL),  # C0HELP routes to support
        ("billing", "p2", BILLING_CHANNEL),  # C0INVOICES routes to billing
        ("support", "p3", SUPPORT_CHANNEL),  # anywhere else: the default team
    ]
    assert [m["text"].split(": ", 1)[1] for m in fake_slack.messages(SUPPORT_CHANNEL)] == [
        "Printer jammed",
        "Laptop will not boot",
    ]
    assert cases[0].origin_channel_id == HELP_CHANNEL


def test_open_without_a_title_opens_a_form_that_opens_the_case_with_its_description(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = slack.command(REQUESTER, "open", channel=HELP_CHANNEL)
    form = fake_slack.opened_views()[-1]
    blank = slack.submit(REQUESTER, form, {"title": "   "})

    assert (asked.responses, form["callback_id"]) == ([], "case_open_modal")
    assert blank.json() == {
        "response_action": "errors",
        "errors": {"title": "Please give the case a title."},
    }
    assert (event_count(casedesk), fake_slack.messages(SUPPORT_CHANNEL)) == (0, [])

    submitted = slack.submit(
        REQUESTER,
        form,
        {"title": "VPN is down", "description": "Since 9:00\nfor everyone", "priority": "p1"},
    )

    assert (submitted.status, submitted.json()) == (200, None)  # the form simply closes
    vpn_card = card(fake_slack)
    assert vpn_card["text"].startswith("Case #1 (P1, open): VPN is down")
    [description] = thread_texts(fake_slack, SUPPORT_CHANNEL, vpn_card["ts"])
    assert "> Since 9:00\n> for everyone" in description
    [told] = fake_slack.ephemerals(REQUESTER)
    assert (told["channel"], told["text"]) == (
        HELP_CHANNEL,
        "Opened case #1 for Customer Support in <#C0SUPPORT>.",
    )
    case = case_row(casedesk)
    assert (case.description, case.team_key) == ("Since 9:00\nfor everyone", "support")
    assert audit(casedesk) == [("opened", "modal")]
