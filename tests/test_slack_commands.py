"""Every `/case` subcommand, button and form as Slack delivers it over signed HTTP, and what
people then see: the card (posted once, then updated in place), the case thread, the answer to
the person who acted, and the audit trail in the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_CHANNEL,
    HELP_CHANNEL,
    MANAGER,
    OUTSIDER,
    REQUESTER,
    START,
    SUPPORT_CHANNEL,
)
from fake_slack import BOT_ID, BOT_USER_ID, FakeSlack
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import func, select

from bot.app import Casedesk
from bot.clock import ManualClock
from bot.ids import ActionId
from models import Case, CaseEvent, CaseStatus

Json = dict[str, Any]

# Helpers: what people see


def all_text(value: Any) -> str:
    """Every `text` string in a Slack payload (message, blocks, view), depth first."""
    if isinstance(value, dict):
        parts = [v if k == "text" and isinstance(v, str) else all_text(v) for k, v in value.items()]
    elif isinstance(value, list):
        parts = [all_text(item) for item in value]
    else:
        return ""
    return "\n".join(part for part in parts if part)


def card(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> Json:
    """The one top-level message in a team channel: the case card."""
    [only] = fake.messages(channel)
    return only


def buttons(message: Json) -> list[str]:
    return [
        element["action_id"]
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def button_value(message: Json, action_id: str) -> str:
    return next(
        str(element["value"])
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


def thread_texts(fake: FakeSlack, channel: str, thread_ts: str) -> list[str]:
    return [all_text(reply) for reply in fake.thread(channel, thread_ts)]


def chat_writes(fake: FakeSlack) -> list[str]:
    return [call.method for call in fake.calls if call.method.startswith("chat.")]


def case_row(casedesk: Casedesk, number: int = 1) -> Case:
    with casedesk.db.read_only() as session:
        case = session.get(Case, number)
    assert case is not None, f"case #{number} was not saved"
    return case


def audit(casedesk: Casedesk, number: int = 1) -> list[tuple[str, str]]:
    """The case's events as (action, source), oldest first."""
    with casedesk.db.read_only() as session:
        rows = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
        ).all()
    return [(row.action.value, row.source.value) for row in rows]


def last_event(casedesk: Casedesk, number: int = 1) -> CaseEvent:
    with casedesk.db.read_only() as session:
        event = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id.desc())
        ).first()
    assert event is not None
    return event


def event_count(casedesk: Casedesk) -> int:
    with casedesk.db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(CaseEvent)) or 0)


def thread_message(user: str, channel: str, thread_ts: str, ts: str, **extra: Any) -> Json:
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": "hello",
        "ts": ts,
        "thread_ts": thread_ts,
        "channel_type": "channel",
        **extra,
    }


# Helpers: getting a case into a state


def open_case(slack: SlackDriver, title: str = "Printer on fire", by: str = REQUESTER) -> str:
    """Opens case in the support channel; returns its card's ts."""
    result = slack.command(by, f"open {title}")
    assert "Opened case" in result.reply_text, result.reply_text
    return str(slack.fake.messages(SUPPORT_CHANNEL)[-1]["ts"])


def run(slack: SlackDriver, user: str, text: str, expect: str) -> HttpResult:
    result = slack.command(user, text)
    assert expect in result.reply_text, result.reply_text
    return result


def claimed_case(slack: SlackDriver) -> str:
    card_ts = open_case(slack)
    run(slack, AGENT, "claim 1", "You claimed case #1")
    return card_ts


def pending_case(slack: SlackDriver) -> str:
    card_ts = claimed_case(slack)
    run(slack, AGENT, "pending 1 the logs", "is pending")
    return card_ts


def closed_case(slack: SlackDriver) -> str:
    card_ts = claimed_case(slack)
    run(slack, AGENT, "close 1 Replaced the toner", "You closed case #1")
    return card_ts


STATES: dict[str, Callable[[SlackDriver], str]] = {
    "open": open_case,
    "claimed": claimed_case,
    "pending": pending_case,
    "closed": closed_case,
}


# /case open


def test_open_with_priority_and_team_posts_the_card_in_that_teams_channel(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    result = slack.command(REQUESTER, "open p1 team:billing Card declined twice")

    assert result.status == 200
    assert "Opened case #1 for Billing in <#C0BILLING>." in result.reply_text
    billing_card = card(fake_slack, BILLING_CHANNEL)
    assert billing_card["text"].startswith("Case #1 (P1, open): Card declined twice")
    assert buttons(billing_card) == [ActionId.CLAIM, ActionId.ESCALATE, ActionId.CLOSE]
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
    routed = [(case.team_key, case.priority, case.channel_id) for case in cases]
    assert routed == [
        ("support", "p3", SUPPORT_CHANNEL),
        ("billing", "p2", BILLING_CHANNEL),
        ("support", "p3", SUPPORT_CHANNEL),
    ]
    assert [m["text"].split(": ", 1)[1] for m in fake_slack.messages(SUPPORT_CHANNEL)] == [
        "Printer jammed",
        "Laptop will not boot",
    ]
    assert case_row(casedesk, 1).origin_channel_id == HELP_CHANNEL


def test_open_without_a_title_opens_a_form_that_opens_the_case_with_its_description(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    asked = slack.command(REQUESTER, "open", channel=HELP_CHANNEL)

    assert asked.responses == []
    form = fake_slack.opened_views()[-1]
    assert form["callback_id"] == "case_open_modal"
    assert fake_slack.messages(SUPPORT_CHANNEL) == []

    submitted = slack.submit(
        REQUESTER,
        form,
        {"title": "VPN is down", "description": "Since 9:00\nfor everyone", "priority": "p1"},
    )

    assert submitted.status == 200
    assert submitted.json() is None  # the form simply closes
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


def test_the_open_form_asks_again_when_the_title_is_blank(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(REQUESTER, "open")

    result = slack.submit(REQUESTER, fake_slack.opened_views()[-1], {"title": "   "})

    assert result.json() == {
        "response_action": "errors",
        "errors": {"title": "Please give the case a title."},
    }
    assert event_count(casedesk) == 0
    assert fake_slack.messages(SUPPORT_CHANNEL) == []


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
    assert buttons(claimed_card) == [ActionId.ESCALATE, ActionId.CLOSE]
    assert thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts) == [
        "Case #1: claimed\n:raising_hand: <@U0AGENT1> claimed this case.\nEscalate"
    ]
    case = case_row(casedesk)
    assert (case.assignee_id, case.status, case.claimed_at) == (
        AGENT,
        CaseStatus.IN_PROGRESS,
        START,
    )
    assert audit(casedesk) == [("opened", "command"), ("claimed", "command")]


def test_claim_button_on_the_card_is_recorded_as_a_button_press(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    result = slack.click(AGENT_2, ActionId.CLAIM, "1", message_ts=card_ts)

    assert "You claimed case #1." in result.reply_text
    assert result.responses[0]["replace_original"] is False  # the card stays a card
    assert case_row(casedesk).assignee_id == AGENT_2
    assert audit(casedesk)[-1] == ("claimed", "button")


def test_manager_assigns_a_case_to_an_agent_picked_with_autocomplete(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    result = slack.command(MANAGER, "assign 1 <@U0AGENT2|agent2>")

    assert "Case #1 is now assigned to <@U0AGENT2>." in result.reply_text
    assert "*Assignee*\n<@U0AGENT2>" in all_text(card(fake_slack))
    assert fake_slack.last("chat.update").params["ts"] == card_ts
    [update] = thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)
    assert "<@U0MANAGER> assigned this case to <@U0AGENT2>." in update
    assert (case_row(casedesk).assignee_id, case_row(casedesk).status) == (
        AGENT_2,
        CaseStatus.IN_PROGRESS,
    )
    assert audit(casedesk)[-1] == ("assigned", "command")


def test_assignee_hands_the_case_back_to_the_queue_with_unassign(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    result = slack.command(AGENT, "unassign 1")

    assert "Case #1 is unassigned now." in result.reply_text
    back_in_queue = card(fake_slack)
    assert "Case #1 (P3, open)" in back_in_queue["text"]
    assert "_unassigned_" in all_text(back_in_queue)
    assert buttons(back_in_queue) == [ActionId.CLAIM, ActionId.ESCALATE, ActionId.CLOSE]
    assert (
        "<@U0AGENT1> unassigned <@U0AGENT1>."
        in thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    )
    case = case_row(casedesk)
    assert (case.assignee_id, case.status) == (None, CaseStatus.OPEN)
    assert audit(casedesk)[-1] == ("unassigned", "command")


# escalate


def test_escalating_with_a_reason_raises_the_level_and_mentions_the_managers(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    result = slack.command(AGENT, "escalate 1 Customer threatens to churn")

    assert "Case #1 is escalated to level 1 with Customer Support." in result.reply_text
    update = thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    assert "escalated this case to level 1: Customer threatens to churn" in update
    assert "cc <@U0MANAGER>" in update
    escalated_card = card(fake_slack)
    assert escalated_card["ts"] == card_ts
    assert "*Escalation*\n:rotating_light: level 1" in all_text(escalated_card)
    case = case_row(casedesk)
    assert (case.escalation_level, case.team_key, case.assignee_id) == (1, "support", AGENT)
    escalated = last_event(casedesk)
    assert (escalated.action.value, escalated.source.value) == ("escalated", "command")
    assert escalated.details["reason"] == "Customer threatens to churn"


def test_escalating_to_billing_moves_the_card_and_the_old_thread_still_counts(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    old_ts = claimed_case(slack)

    result = slack.command(AGENT, "escalate 1 to billing Refund needs finance")

    assert "Case #1 is escalated to level 1 with Billing." in result.reply_text
    new_card = card(fake_slack, BILLING_CHANNEL)
    assert new_card["text"].startswith("Case #1 (P3, open): Printer on fire")
    assert "cc <@U0BILLMGR>" in thread_texts(fake_slack, BILLING_CHANNEL, new_card["ts"])[-1]
    old_card = card(fake_slack, SUPPORT_CHANNEL)
    assert old_card["text"] == "Case #1 moved to Billing."
    assert buttons(old_card) == []
    assert (
        "Moved from *Customer Support* to *Billing*."
        in thread_texts(fake_slack, SUPPORT_CHANNEL, old_ts)[-1]
    )
    case = case_row(casedesk)
    assert (case.team_key, case.channel_id, case.card_ts, case.assignee_id) == (
        "billing",
        BILLING_CHANNEL,
        new_card["ts"],
        None,  # the support agent is not a billing agent
    )
    assert [action for action, _ in audit(casedesk)][-3:] == [
        "escalated",
        "team_changed",
        "unassigned",
    ]

    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, old_ts, "Any news on my refund?")

    assert audit(casedesk)[-1] == ("customer_replied", "thread")


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
    assert "level 1: VIP customer" in thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    assert audit(casedesk)[-1] == ("escalated", "modal")
    assert "Case #1 is escalated to level 1" in fake_slack.ephemerals(AGENT)[-1]["text"]


# pending and resume


def test_agent_parks_a_case_as_pending_and_resumes_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    parked = slack.command(AGENT, "pending 1 Waiting for the error logs")

    assert "Case #1 is pending until the requester answers." in parked.reply_text
    assert "Waiting on the requester:* Waiting for the error logs" in all_text(card(fake_slack))
    assert (
        "is waiting on the requester: Waiting for the error logs"
        in thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    )
    assert case_row(casedesk).status is CaseStatus.PENDING

    resumed = slack.command(AGENT, "resume 1")

    assert "Case #1 is back in progress." in resumed.reply_text
    assert "Waiting on the requester" not in all_text(card(fake_slack))
    assert (
        "Back in progress by <@U0AGENT1>." in thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    )
    case = case_row(casedesk)
    assert (case.status, case.pending_reason) == (CaseStatus.IN_PROGRESS, None)
    assert audit(casedesk)[-2:] == [("pending", "command"), ("resumed", "command")]


def test_requester_reply_in_the_thread_resumes_a_pending_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = pending_case(slack)

    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, card_ts, "Here are the logs")

    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assert audit(casedesk)[-2:] == [("customer_replied", "thread"), ("resumed", "thread")]
    assert (
        "Back in progress (requester replied)."
        in thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    )
    assert "Case #1 (P3, in progress)" in card(fake_slack)["text"]


# Conversation in the thread


def test_agents_first_reply_in_the_thread_is_the_first_response(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    card_ts = open_case(slack)
    clock.advance(timedelta(minutes=42))

    slack.thread_reply(AGENT, SUPPORT_CHANNEL, card_ts, "Looking into it")
    clock.advance(timedelta(minutes=5))
    slack.thread_reply(AGENT_2, SUPPORT_CHANNEL, card_ts, "Me too")

    assert case_row(casedesk).first_response_at == START + timedelta(minutes=42)
    assert "first response after 42 min" in all_text(card(fake_slack))
    assert audit(casedesk)[1:] == [("responded", "thread"), ("responded", "thread")]
    assert last_event(casedesk).details.get("first_response") is None
    assert thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts) == []  # nothing echoed


def test_slack_retrying_an_event_records_the_message_once(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)
    message = thread_message(REQUESTER, SUPPORT_CHANNEL, card_ts, "1700000100.000100")

    first = slack.event(message, event_id="Ev0RETRIED")
    retry = slack.event(message, event_id="Ev0RETRIED")

    assert (first.status, retry.status) == (200, 200)
    assert audit(casedesk) == [("opened", "command"), ("customer_replied", "thread")]


def test_bot_messages_and_edits_in_a_case_thread_are_not_recorded(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = pending_case(slack)
    before = audit(casedesk)
    own_post = thread_message(
        BOT_USER_ID, SUPPORT_CHANNEL, card_ts, "1700000100.0001", bot_id=BOT_ID
    )
    other_bot = thread_message(
        "U0OTHERBOT",
        SUPPORT_CHANNEL,
        card_ts,
        "1700000100.0002",
        bot_id="B0OTHER",
        subtype="bot_message",
    )
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": SUPPORT_CHANNEL,
        "ts": "1700000100.0003",
        "message": thread_message(
            REQUESTER,
            SUPPORT_CHANNEL,
            card_ts,
            "1700000100.0000",
            edited={"user": REQUESTER, "ts": "1700000100.0003"},
        ),
        "previous_message": thread_message(REQUESTER, SUPPORT_CHANNEL, card_ts, "1700000100.0000"),
    }

    for event in (own_post, other_bot, edit):
        assert slack.event(event).status == 200

    assert audit(casedesk) == before
    assert case_row(casedesk).status is CaseStatus.PENDING


def test_a_bystanders_reply_is_recorded_as_a_comment(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)

    slack.thread_reply(OUTSIDER, SUPPORT_CHANNEL, card_ts, "Same problem here")
    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, "1690000000.000100", "not a case thread")

    assert audit(casedesk) == [("opened", "command"), ("commented", "thread")]
    assert case_row(casedesk).first_response_at is None


# close and reopen


def test_agent_closes_a_case_with_a_resolution(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    result = slack.command(AGENT, "close 1 Replaced the toner")

    assert "You closed case #1." in result.reply_text
    closed_card = card(fake_slack)
    assert closed_card["ts"] == card_ts
    assert "*Resolution:* Replaced the toner" in all_text(closed_card)
    assert buttons(closed_card) == [ActionId.REOPEN]
    assert (
        "closed this case: Replaced the toner"
        in thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    )
    case = case_row(casedesk)
    assert (case.status, case.resolution, case.closed_by) == (
        CaseStatus.CLOSED,
        "Replaced the toner",
        AGENT,
    )
    assert audit(casedesk)[-1] == ("closed", "command")


def test_close_button_opens_a_form_that_refuses_a_blank_resolution(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    asked = slack.click(AGENT, ActionId.CLOSE, "1", message_ts=card_ts)
    form = fake_slack.opened_views()[-1]
    blank = slack.submit(AGENT, form, {"resolution": "  "})

    assert asked.responses == []
    assert (form["callback_id"], form["title"]["text"]) == ("case_close_modal", "Close #1")
    assert blank.status == 200
    assert blank.json() == {
        "response_action": "errors",
        "errors": {"resolution": "Please describe the resolution."},
    }
    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS

    slack.submit(AGENT, form, {"resolution": "Rebooted the print server"})

    assert case_row(casedesk).resolution == "Rebooted the print server"
    assert audit(casedesk)[-1] == ("closed", "modal")
    assert buttons(card(fake_slack)) == [ActionId.REOPEN]


def test_requester_reopens_their_closed_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = closed_case(slack)

    result = slack.command(REQUESTER, "reopen 1 It is jammed again")

    assert "Case #1 is reopened." in result.reply_text
    reopened_card = card(fake_slack)
    assert "Case #1 (P3, in progress)" in reopened_card["text"]
    assert buttons(reopened_card) == [ActionId.ESCALATE, ActionId.CLOSE]
    assert "reopened 1×" in all_text(reopened_card)
    assert (
        "<@U0REQUESTER> reopened this case: It is jammed again"
        in thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1]
    )
    case = case_row(casedesk)
    assert (case.status, case.assignee_id, case.reopen_count, case.resolution) == (
        CaseStatus.IN_PROGRESS,
        AGENT,
        1,
        None,
    )
    assert audit(casedesk)[-1] == ("reopened", "command")


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
        in (thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts)[-1])
    )
    note = last_event(casedesk)
    assert (note.action.value, note.source.value) == ("note", "command")
    assert note.details["text"] == "Customer is on the enterprise plan"


def test_show_gives_the_details_and_the_latest_events(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
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
    assert ActionId.CLAIM not in json.dumps(result.responses)  # details, not a second card


def test_list_pages_ten_cases_at_a_time_and_next_replaces_the_list_with_the_rest(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    for number in range(1, 13):
        slack.command(REQUESTER, f"open Case number {number}")

    first_page = slack.command(AGENT, "list")

    [page] = first_page.responses
    assert page["text"] == "Open cases: " + ", ".join(f"#{n}" for n in range(12, 2, -1))
    assert "Open cases (1–10)" in first_page.reply_text
    assert buttons(page) == [ActionId.LIST_MORE]
    assert "Next 10" in first_page.reply_text

    rest = slack.click(AGENT, ActionId.LIST_MORE, button_value(page, ActionId.LIST_MORE))

    [second_page] = rest.responses
    assert second_page["replace_original"] is True
    assert second_page["text"] == "Open cases: #2, #1"
    assert "Open cases (11–12)" in rest.reply_text
    assert buttons(second_page) == []


def test_list_shows_only_what_was_asked_for(slack: SlackDriver) -> None:
    claimed_case(slack)
    slack.command(REQUESTER, "open Second case")

    mine = slack.command(AGENT, "list mine")
    unassigned = slack.command(AGENT, "list unassigned")
    closed = slack.command(AGENT, "list closed")

    assert mine.responses[0]["text"] == "Mine cases: #1"
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


# Refusals: the person is told exactly why, and nothing changes


def test_a_non_agent_cannot_claim(slack: SlackDriver, casedesk: Casedesk) -> None:
    open_case(slack)

    result = slack.command(OUTSIDER, "claim 1")

    assert "Only agents and managers of Customer Support can claim cases." in result.reply_text
    assert case_row(casedesk).assignee_id is None


def test_a_second_claim_names_who_has_the_case(slack: SlackDriver, casedesk: Casedesk) -> None:
    claimed_case(slack)

    result = slack.command(AGENT_2, "claim 1")

    assert "Case #1 is already claimed by <@U0AGENT1> (just now)." in result.reply_text
    assert "`/case assign 1 @you`" in result.reply_text
    assert case_row(casedesk).assignee_id == AGENT


def test_a_closed_case_cannot_be_acted_on(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    closed_case(slack)
    fake_slack.clear()

    result = slack.command(AGENT_2, "escalate 1 Still broken")

    assert (
        "Case #1 is already closed by <@U0AGENT1> just now, so you cannot escalate it. "
        "Use `/case reopen 1 <reason>` first."
    ) in result.reply_text
    assert chat_writes(fake_slack) == []


def test_an_unknown_case_number_is_refused(slack: SlackDriver) -> None:
    result = slack.command(AGENT, "claim 999")

    assert "There is no case #999. `/case list` shows the open ones." in result.reply_text


def test_a_reference_that_is_not_a_number_is_refused_with_the_usage(slack: SlackDriver) -> None:
    result = slack.command(AGENT, "claim abc")

    assert (
        "`abc` is not a case number. Usage: `/case claim <case>` (a case is `42` or `#42`)."
        in result.reply_text
    )


def test_an_outsider_cannot_reopen(slack: SlackDriver, casedesk: Casedesk) -> None:
    closed_case(slack)

    result = slack.command(OUTSIDER, "reopen 1 I want it open")

    assert (
        "Only the requester or an agent or manager of Customer Support can reopen case #1."
        in result.reply_text
    )
    assert case_row(casedesk).status is CaseStatus.CLOSED


REFUSALS = [
    pytest.param("open", AGENT, "claim", "Which case?", id="claim-without-a-case"),
    pytest.param("open", AGENT, "unassign 1", "Case #1 has no assignee.", id="unassign-nobody"),
    pytest.param(
        "open", AGENT, "pending 1 logs", "Nobody is working on case #1 yet.", id="pending-unclaimed"
    ),
    pytest.param(
        "open", AGENT, "resume 1", "Case #1 is not pending; it is open.", id="resume-not-pending"
    ),
    pytest.param(
        "open", REQUESTER, "reopen 1 why", "Case #1 is not closed; it is open.", id="reopen-open"
    ),
    pytest.param(
        "open",
        MANAGER,
        "assign 1 <@U0OUTSIDER|out>",
        "<@U0OUTSIDER> is not an agent of Customer Support, so they cannot take case #1.",
        id="assign-to-a-non-agent",
    ),
    pytest.param(
        "open", MANAGER, "assign 1 bob", "(I could not tell who `bob` is).", id="assign-to-nobody"
    ),
    pytest.param(
        "open",
        AGENT,
        "note 1",
        "Please give the note's text: `/case note 1 <text>`.",
        id="blank-note",
    ),
    pytest.param(
        "open",
        OUTSIDER,
        "note 1 psst",
        "Only agents and managers of Customer Support can add internal notes.",
        id="outsider-note",
    ),
    pytest.param(
        "open",
        OUTSIDER,
        "escalate 1 urgent",
        "Only agents and managers of Customer Support can escalate cases.",
        id="outsider-escalate",
    ),
    pytest.param(
        "open",
        OUTSIDER,
        "escalate 1",
        "Only agents and managers of Customer Support can escalate cases.",
        id="outsider-escalate-form",
    ),
    pytest.param(
        "open", AGENT, "escalate 1 to legal now", "There is no team `legal`.", id="unknown-team"
    ),
    pytest.param(
        "open",
        OUTSIDER,
        "close 1 done",
        "Only agents and managers of Customer Support can close cases.",
        id="outsider-close",
    ),
    pytest.param(
        "open", REQUESTER, "open team:legal Help", "There is no team `legal`.", id="open-bad-team"
    ),
    pytest.param("open", AGENT, "list weird", "`weird` is not a list", id="unknown-list"),
    pytest.param(
        "claimed", AGENT, "claim 1", "You already have case #1.", id="claim-own-case-again"
    ),
    pytest.param(
        "claimed",
        AGENT_2,
        "assign 1 <@U0AGENT2|me>",
        "Only a manager of Customer Support or the case's assignee can assign case #1",
        id="agent-takes-a-claimed-case",
    ),
    pytest.param(
        "claimed",
        MANAGER,
        "assign 1 <@U0AGENT1|a>",
        "Case #1 is already assigned to <@U0AGENT1>.",
        id="assign-to-the-assignee",
    ),
    pytest.param(
        "claimed",
        AGENT_2,
        "unassign 1",
        "Only a manager of Customer Support or the assignee can unassign case #1.",
        id="unassign-someone-else",
    ),
    pytest.param(
        "pending",
        AGENT,
        "pending 1 more",
        "Case #1 is already pending (the logs). `/case resume 1` puts it back in progress.",
        id="pending-twice",
    ),
    pytest.param(
        "pending",
        OUTSIDER,
        "resume 1",
        "Only agents and managers of Customer Support can resume cases.",
        id="outsider-resume",
    ),
    pytest.param(
        "closed",
        REQUESTER,
        "reopen 1",
        "Please give a reason: `/case reopen 1 <reason>`.",
        id="reopen-without-reason",
    ),
    pytest.param(
        "closed",
        AGENT,
        "claim 1",
        "Case #1 is already closed by <@U0AGENT1> just now, so you cannot claim it.",
        id="claim-closed",
    ),
]


@pytest.mark.parametrize(("state", "user", "text", "told"), REFUSALS)
def test_refused_commands_say_why_and_change_nothing(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    casedesk: Casedesk,
    state: str,
    user: str,
    text: str,
    told: str,
) -> None:
    STATES[state](slack)
    events_before = event_count(casedesk)
    fake_slack.clear()

    result = slack.command(user, text)

    assert result.status == 200
    assert told in result.reply_text
    assert event_count(casedesk) == events_before
    assert chat_writes(fake_slack) == []
    assert fake_slack.calls_to("views.open") == []
