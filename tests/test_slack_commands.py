"""Every `/case` subcommand, button and form as Slack delivers it over signed HTTP, and what
people then see: the card (posted once, then updated in place), the case thread, the answer to
the person who acted, and the audit trail in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
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
from helpers import Json, all_text, button_elements, case_row, open_case
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.ids import ActionId
from bot.runtime.assembly import Casedesk
from models import CaseEvent, CaseStatus

# Helpers: what people see


def card(fake: FakeSlack, channel: str = SUPPORT_CHANNEL) -> Json:
    """The one top-level message in a team channel: the case card."""
    [only] = fake.messages(channel)
    return only


def buttons(message: Json) -> list[str]:
    return [element["action_id"] for element in button_elements(message)]


def button_value(message: Json, action_id: str) -> str:
    return next(
        str(element["value"])
        for element in button_elements(message)
        if element["action_id"] == action_id
    )


def thread_texts(fake: FakeSlack, channel: str, thread_ts: str) -> list[str]:
    return [all_text(reply) for reply in fake.thread(channel, thread_ts)]


def latest_in_thread(fake: FakeSlack, thread_ts: str, channel: str = SUPPORT_CHANNEL) -> str:
    texts = thread_texts(fake, channel, thread_ts)
    assert texts, f"nothing was posted in the thread {thread_ts}"
    return texts[-1]


def audit(casedesk: Casedesk, number: int = 1) -> list[tuple[str, str]]:
    """The case's events as (action, source), oldest first."""
    with casedesk.db.read_only() as session:
        rows = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
        ).all()
    return [(row.action.value, row.source.value) for row in rows]


def sources(casedesk: Casedesk, action: str, number: int = 1) -> list[str]:
    """Where each `action` event of the case came from: command, button, modal or thread."""
    return [source for name, source in audit(casedesk, number) if name == action]


def event_of(casedesk: Casedesk, action: str, number: int = 1) -> CaseEvent:
    with casedesk.db.read_only() as session:
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
        ).all()
    return [event for event in events if event.action.value == action][-1]


def event_count(casedesk: Casedesk) -> int:
    with casedesk.db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(CaseEvent)) or 0)


def thread_message(user: str, thread_ts: str, ts: str, **extra: Any) -> Json:
    """A message event as the Events API delivers it for a reply in a support-channel thread."""
    return {
        "type": "message",
        "channel": SUPPORT_CHANNEL,
        "user": user,
        "text": "hello",
        "ts": ts,
        "thread_ts": thread_ts,
        "channel_type": "channel",
        **extra,
    }


# Helpers: getting a case into a state


def run(slack: SlackDriver, user: str, text: str, expect: str) -> None:
    result = slack.command(user, text)
    assert expect in result.reply_text, result.reply_text


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


def refusal_problem(
    fake: FakeSlack, casedesk: Casedesk, act: Callable[[], HttpResult], told: str
) -> str | None:
    """Do `act`; describe what went wrong unless the person was told `told` and nothing
    changed: no audit event, no card or thread message, no form."""
    events_before = event_count(casedesk)
    fake.clear()
    result = act()
    wrote = [c.method for c in fake.calls if c.method.startswith(("chat.", "views."))]
    if told not in result.reply_text:
        return f"expected {told!r}, was told {result.reply_text!r}"
    if (result.status, event_count(casedesk) - events_before, wrote) != (200, 0, []):
        return f"status {result.status}, {event_count(casedesk) - events_before} events, {wrote}"
    return None


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
    assert buttons(back_in_queue) == [ActionId.CLAIM, ActionId.ESCALATE, ActionId.CLOSE]
    assert "<@U0AGENT1> unassigned <@U0AGENT1>." in latest_in_thread(fake_slack, card_ts)
    case = case_row(casedesk)
    assert (case.assignee_id, case.status) == (None, CaseStatus.OPEN)
    assert sources(casedesk, "unassigned") == ["command"]


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


# pending and resume


def test_agent_parks_a_case_as_pending_and_resumes_it(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)

    parked = slack.command(AGENT, "pending 1 Waiting for the error logs")

    assert "Case #1 is pending until the requester answers." in parked.reply_text
    assert "Waiting on the requester:* Waiting for the error logs" in all_text(card(fake_slack))
    assert "is waiting on the requester: Waiting for the error logs" in latest_in_thread(
        fake_slack, card_ts
    )
    assert case_row(casedesk).status is CaseStatus.PENDING

    resumed = slack.command(AGENT, "resume 1")

    assert "Case #1 is back in progress." in resumed.reply_text
    assert "Waiting on the requester" not in all_text(card(fake_slack))
    assert "Back in progress by <@U0AGENT1>." in latest_in_thread(fake_slack, card_ts)
    case = case_row(casedesk)
    assert (case.status, case.pending_reason) == (CaseStatus.IN_PROGRESS, None)
    assert (sources(casedesk, "pending"), sources(casedesk, "resumed")) == (
        ["command"],
        ["command"],
    )


def test_requester_reply_in_the_thread_resumes_a_pending_case(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = pending_case(slack)

    slack.thread_reply(REQUESTER, SUPPORT_CHANNEL, card_ts, "Here are the logs")

    assert case_row(casedesk).status is CaseStatus.IN_PROGRESS
    assert audit(casedesk)[-2:] == [("customer_replied", "thread"), ("resumed", "thread")]
    assert "Back in progress (requester replied)." in latest_in_thread(fake_slack, card_ts)
    assert "Case #1 (P3, in progress)" in card(fake_slack)["text"]


# Conversation in the thread


def test_agents_first_reply_in_the_thread_is_the_first_response_and_a_bystanders_is_not(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    card_ts = open_case(slack)
    clock.advance(timedelta(minutes=10))
    slack.thread_reply(OUTSIDER, SUPPORT_CHANNEL, card_ts, "Same problem here")
    assert case_row(casedesk).first_response_at is None

    clock.advance(timedelta(minutes=32))
    slack.thread_reply(AGENT, SUPPORT_CHANNEL, card_ts, "Looking into it")
    clock.advance(timedelta(minutes=5))
    slack.thread_reply(AGENT_2, SUPPORT_CHANNEL, card_ts, "Me too")

    assert case_row(casedesk).first_response_at == START + timedelta(minutes=42)
    assert "first response after 42 min" in all_text(card(fake_slack))
    assert audit(casedesk)[1:] == [
        ("commented", "thread"),
        ("responded", "thread"),
        ("responded", "thread"),
    ]
    assert event_of(casedesk, "responded").details.get("first_response") is None  # the 2nd
    assert thread_texts(fake_slack, SUPPORT_CHANNEL, card_ts) == []  # nothing is echoed


def test_slack_retrying_an_event_records_the_message_once(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = open_case(slack)
    message = thread_message(REQUESTER, card_ts, "1700000100.000100")

    first = slack.event(message, event_id="Ev0RETRIED")
    retry = slack.event(message, event_id="Ev0RETRIED")

    assert (first.status, retry.status) == (200, 200)
    assert sources(casedesk, "customer_replied") == ["thread"]


def test_bot_messages_and_edits_in_a_case_thread_are_not_recorded(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    card_ts = pending_case(slack)
    before = audit(casedesk)
    own_post = thread_message(BOT_USER_ID, card_ts, "1700000100.000100", bot_id=BOT_ID)
    other_bot = thread_message(
        "U0OTHERBOT", card_ts, "1700000100.000200", bot_id="B0OTHER", subtype="bot_message"
    )
    reply = thread_message(REQUESTER, card_ts, "1700000100.000300")
    edit = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": SUPPORT_CHANNEL,
        "ts": "1700000100.000400",
        "message": {**reply, "text": "edited", "edited": {"user": REQUESTER}},
        "previous_message": reply,
    }

    statuses = [slack.event(event).status for event in (own_post, other_bot, edit)]

    assert statuses == [200, 200, 200]
    assert audit(casedesk) == before
    assert case_row(casedesk).status is CaseStatus.PENDING  # an edit is not a reply


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
    assert "closed this case: Replaced the toner" in latest_in_thread(fake_slack, card_ts)
    case = case_row(casedesk)
    assert (case.status, case.resolution, case.closed_by) == (
        CaseStatus.CLOSED,
        "Replaced the toner",
        AGENT,
    )
    assert sources(casedesk, "closed") == ["command"]


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
    assert sources(casedesk, "closed") == ["modal"]
    assert buttons(card(fake_slack)) == [ActionId.REOPEN]
    assert "You closed case #1." in fake_slack.ephemerals(AGENT)[-1]["text"]


def test_a_form_submitted_after_someone_else_closed_the_case_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    card_ts = claimed_case(slack)
    slack.click(AGENT, ActionId.ESCALATE, "1", message_ts=card_ts)
    form = fake_slack.opened_views()[-1]
    run(slack, AGENT_2, "close 1 Duplicate of #7", "You closed case #1")

    slack.submit(AGENT, form, {"reason": "Still burning"})

    told = fake_slack.ephemerals(AGENT)[-1]["text"]
    assert "Case #1 is already closed by <@U0AGENT2>" in told
    assert "so you cannot escalate it" in told
    assert (case_row(casedesk).escalation_level, sources(casedesk, "escalated")) == (0, [])


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
    assert "<@U0REQUESTER> reopened this case: It is jammed again" in latest_in_thread(
        fake_slack, card_ts
    )
    case = case_row(casedesk)
    assert (case.status, case.assignee_id, case.reopen_count, case.resolution) == (
        CaseStatus.IN_PROGRESS,
        AGENT,
        1,
        None,
    )
    assert sources(casedesk, "reopened") == ["command"]


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


def assert_refused(slack: SlackDriver, casedesk: Casedesk, user: str, text: str, told: str) -> None:
    """`/case <text>` from `user` is refused with `told`, and changes nothing."""
    problem = refusal_problem(slack.fake, casedesk, partial(slack.command, user, text), told)
    assert problem is None, problem


def test_a_non_agent_cannot_claim(slack: SlackDriver, casedesk: Casedesk) -> None:
    open_case(slack)

    told = "Only agents and managers of Customer Support can claim cases."
    assert_refused(slack, casedesk, OUTSIDER, "claim 1", told)

    assert case_row(casedesk).assignee_id is None


def test_a_second_claim_names_who_has_the_case(slack: SlackDriver, casedesk: Casedesk) -> None:
    claimed_case(slack)

    told = (
        "Case #1 is already claimed by <@U0AGENT1> (just now). "
        "Ask them or a manager to hand it over with `/case assign 1 @you`."
    )
    assert_refused(slack, casedesk, AGENT_2, "claim 1", told)

    assert case_row(casedesk).assignee_id == AGENT


def test_a_closed_case_cannot_be_acted_on(slack: SlackDriver, casedesk: Casedesk) -> None:
    closed_case(slack)

    told = (
        "Case #1 is already closed by <@U0AGENT1> just now, so you cannot escalate it. "
        "Use `/case reopen 1 <reason>` first."
    )
    assert_refused(slack, casedesk, AGENT_2, "escalate 1 Still broken", told)


def test_an_unknown_case_number_is_refused(slack: SlackDriver, casedesk: Casedesk) -> None:
    told = "There is no case #999. `/case list` shows the open ones."
    assert_refused(slack, casedesk, AGENT, "claim 999", told)


def test_a_reference_that_is_not_a_number_is_refused_with_the_usage(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    told = "`abc` is not a case number. Usage: `/case claim <case>` (a case is `42` or `#42`)."
    assert_refused(slack, casedesk, AGENT, "claim abc", told)


def test_an_outsider_cannot_reopen(slack: SlackDriver, casedesk: Casedesk) -> None:
    closed_case(slack)

    told = "Only the requester or an agent or manager of Customer Support can reopen case #1."
    assert_refused(slack, casedesk, OUTSIDER, "reopen 1 I want it open", told)

    assert case_row(casedesk).status is CaseStatus.CLOSED


# Every other refusal a command can meet, by the state the case is in: (who, text, told).
REFUSALS: dict[str, list[tuple[str, str, str]]] = {
    "open": [
        (AGENT, "claim", "Which case? Usage: `/case claim <case>`"),
        (AGENT, "unassign 1", "Case #1 has no assignee."),
        (AGENT, "pending 1 logs", "Nobody is working on case #1 yet. Claim it first"),
        (AGENT, "resume 1", "Case #1 is not pending; it is open."),
        (REQUESTER, "reopen 1 why", "Case #1 is not closed; it is open."),
        (
            MANAGER,
            "assign 1 <@U0OUTSIDER|out>",
            "<@U0OUTSIDER> is not an agent of Customer Support, so they cannot take case #1.",
        ),
        (MANAGER, "assign 1 bob", "(I could not tell who `bob` is)."),
        (AGENT, "note 1", "Please give the note's text: `/case note 1 <text>`."),
        (OUTSIDER, "note 1 psst", "Only agents and managers of Customer Support can add internal"),
        (OUTSIDER, "escalate 1 now", "Only agents and managers of Customer Support can escalate"),
        (OUTSIDER, "escalate 1", "Only agents and managers of Customer Support can escalate"),
        (AGENT, "escalate 1 to legal now", "There is no team `legal`. Teams: `support`"),
        (OUTSIDER, "close 1 done", "Only agents and managers of Customer Support can close"),
        (OUTSIDER, "close 1", "Only agents and managers of Customer Support can close cases."),
        (REQUESTER, "open team:legal Help", "There is no team `legal`."),
        (AGENT, "list weird", "`weird` is not a list; use one of: open, mine"),
    ],
    "claimed": [
        (AGENT, "claim 1", "You already have case #1."),
        (AGENT_2, "assign 1 <@U0AGENT2|me>", "Only a manager of Customer Support or the case's"),
        (MANAGER, "assign 1 <@U0AGENT1|a>", "Case #1 is already assigned to <@U0AGENT1>."),
        (AGENT_2, "unassign 1", "Only a manager of Customer Support or the assignee can unassign"),
        (AGENT, "pending 1", "Please give what you are waiting for"),
    ],
    "pending": [
        (AGENT, "pending 1 more", "Case #1 is already pending (the logs). `/case resume 1`"),
        (OUTSIDER, "resume 1", "Only agents and managers of Customer Support can resume cases."),
    ],
    "closed": [
        (REQUESTER, "reopen 1", "Please give a reason: `/case reopen 1 <reason>`."),
        (AGENT, "claim 1", "Case #1 is already closed by <@U0AGENT1> just now, so you cannot"),
        (MANAGER, "assign 1 <@U0AGENT2|a>", "so you cannot assign it"),
        (AGENT, "close 1 again", "so you cannot close it"),
    ],
}


@pytest.mark.parametrize("state", list(REFUSALS))
def test_other_refused_commands_say_why_and_change_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, state: str
) -> None:
    STATES[state](slack)

    problems = {
        f"{user} /case {text}": problem
        for user, text, told in REFUSALS[state]
        if (
            problem := refusal_problem(
                fake_slack, casedesk, partial(slack.command, user, text), told
            )
        )
    }

    assert problems == {}


def test_refused_button_clicks_say_why_and_open_no_form(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    closed_case(slack)
    open_case(slack, "Second case")
    clicks = [
        (OUTSIDER, ActionId.CLOSE, "2", "Only agents and managers of Customer Support can close"),
        (OUTSIDER, ActionId.ESCALATE, "2", "Only agents and managers of Customer Support can"),
        (OUTSIDER, ActionId.CLAIM, "2", "Only agents and managers of Customer Support can claim"),
        (AGENT_2, ActionId.CLAIM, "1", "Case #1 is already closed by <@U0AGENT1>"),
        (OUTSIDER, ActionId.REOPEN, "1", "Only the requester or an agent or manager of"),
        (AGENT, ActionId.CLAIM, "abc", "That button does not point at a case any more."),
        (AGENT, ActionId.LIST_MORE, "{not json", "That list is out of date; run `/case list`"),
    ]

    problems = {
        f"{user} clicks {action_id}({value})": problem
        for user, action_id, value, told in clicks
        if (
            problem := refusal_problem(
                fake_slack, casedesk, partial(slack.click, user, action_id, value), told
            )
        )
    }

    assert problems == {}
