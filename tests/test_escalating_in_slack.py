"""Escalating delivered by Slack over signed HTTP: with a reason the level rises and the
managers are mentioned; to another team the card moves and the old thread still counts; without
a reason a form opens."""

from __future__ import annotations

from conftest import AGENT, BILLING_CHANNEL, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import all_text, case_row, open_case
from slack_commands_helpers import (
    audit,
    buttons,
    card,
    claimed_case,
    event_of,
    latest_in_thread,
    sources,
)
from slack_driver import SlackDriver

from bot.runtime.casedesk import Casedesk

# escalate


def test_escalating_with_a_reason_raises_the_level_and_mentions_the_managers(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    result = slack.command(AGENT, "escalate 1 Customer threatens to churn")

    assert "Case #1 is escalated to level 1 with Customer Support." in result.reply_text
    update = latest_in_thread(fake_slack, card_ts)
    assert "escalated this case to level 1: Customer threatens to churn" in update
    assert "cc <@U0MANAGER>" in update
    escalated_card = card(fake_slack)
    assert escalated_card["ts"] == card_ts
    assert "*Escalation*\n:rotating_light: level 1" in all_text(escalated_card)
    case = case_row(casedesk)
    assert (case.escalation_level, case.team_key, case.assignee_id) == (1, "support", AGENT)
    assert sources(casedesk, "escalated") == ["command"]
    assert event_of(casedesk, "escalated").details["reason"] == "Customer threatens to churn"


def test_escalating_to_billing_moves_the_card_and_the_old_thread_still_counts(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    old_ts = claimed_case(slack)

    result = slack.command(AGENT, "escalate 1 to billing Refund needs finance")

    assert "Case #1 is escalated to level 1 with Billing." in result.reply_text
    new_card = card(fake_slack, BILLING_CHANNEL)
    assert new_card["text"].startswith("Case #1 (P3, open): Printer on fire")
    assert "cc <@U0BILLMGR>" in latest_in_thread(fake_slack, new_card["ts"], BILLING_CHANNEL)
    old_card = card(fake_slack, SUPPORT_CHANNEL)
    assert (old_card["ts"], old_card["text"]) == (old_ts, "Case #1 moved to Billing.")
    assert buttons(old_card) == []
    assert "Moved from *Customer Support* to *Billing*." in latest_in_thread(fake_slack, old_ts)
    case = case_row(casedesk)
    assert (case.team_key, case.channel_id, case.card_ts, case.assignee_id) == (
        "billing",
        BILLING_CHANNEL,
        new_card["ts"],
        None,  # the support agent is not a billing agent
    )
    assert [action for action, _ in audit(casedesk)][2:5] == [
        "escalated",
        "team_changed",
        "unassigned",
    ]

    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, old_ts, "Any news on my refund?")

    assert sources(casedesk, "customer_replied") == ["thread"]


def test_escalating_without_a_reason_opens_a_form(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    asked = slack.command(AGENT, "escalate 1")

    assert asked.responses == []
    form = fake_slack.opened_views()[-1]
    assert (form["callback_id"], form["title"]["text"]) == ("case_escalate_modal", "Escalate #1")
    assert case_row(casedesk).escalation_level == 0

    slack.submit(AGENT, form, {"reason": "VIP customer"})

    assert case_row(casedesk).escalation_level == 1
    assert "level 1: VIP customer" in latest_in_thread(fake_slack, card_ts)
    assert sources(casedesk, "escalated") == ["modal"]
    assert "Case #1 is escalated to level 1" in fake_slack.ephemerals(AGENT)[-1]["text"]


def test_escalating_to_a_team_without_a_reason_opens_the_form_with_that_team_chosen(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    open_case(slack)

    slack.command(AGENT, "escalate 1 to billing")

    [team_input] = [
        b for b in fake_slack.opened_views()[-1]["blocks"] if b.get("block_id") == "team"
    ]
    assert team_input["element"]["initial_option"]["value"] == "billing"
