"""The sandbox's page makes cases from conversations as Slack would deliver them: a message
posted in a help channel (a `message` event), a message's ⋯ shortcut (`message_action`), an
emoji reaction (`reaction_added` / `reaction_removed`); and the card's "Assign to…" picker
(`block_actions` with a `users_select`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from conftest import AGENT, HELP_CHANNEL, MANAGER, SUPPORT_CHANNEL
from sandbox_fixtures import page_call, page_state, running_sandbox

from bot.sandbox.actions import GENERAL, Sandbox
from bot.sandbox.signed import HttpResult
from bot.sandbox.workspace import REQUESTER_ID
from models import Case, CaseSource

GENERAL_CHANNEL = GENERAL["id"]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path) as running:
        yield running


@pytest.fixture
def delivered(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the bot was sent: each event (Events API) or payload (interactivity), as JSON."""
    seen: list[dict[str, Any]] = []
    post = sandbox.requests.post

    def spying(body: str, **options: Any) -> HttpResult:
        if options.get("content_type") == "application/json":
            seen.append(json.loads(body)["event"])
        elif "payload" in parse_qs(body):
            seen.append(json.loads(parse_qs(body)["payload"][0]))
        return post(body, **options)

    monkeypatch.setattr(sandbox.requests, "post", spying)
    return seen


def the_case(sandbox: Sandbox, number: int) -> Case:
    with sandbox.casedesk.db.read_only() as session:
        case = session.get(Case, number)
        assert case is not None
        session.expunge(case)
        return case


def private_to(sandbox: Sandbox, user: str) -> list[str]:
    return [e["text"] for e in page_state(sandbox, user)["ephemerals"]]


def test_a_message_in_the_help_channel_opens_a_case_answered_in_its_thread(
    sandbox: Sandbox, delivered: list[dict[str, Any]]
) -> None:
    posted = page_call(
        sandbox, "type", user=REQUESTER_ID, channel=HELP_CHANNEL, text="The VPN drops"
    )
    state = page_state(sandbox, REQUESTER_ID)
    asked = state["messages"][HELP_CHANNEL][0]
    page_call(
        sandbox, "type", user=AGENT, channel=HELP_CHANNEL, text="On it", thread_ts=asked["ts"]
    )
    thread = page_state(sandbox, AGENT)["replies"][HELP_CHANNEL][asked["ts"]]

    assert posted == {"ok": True, "status": 200}
    assert delivered[0] == {
        "type": "message",
        "channel": HELP_CHANNEL,
        "user": REQUESTER_ID,
        "text": "The VPN drops",
        "ts": asked["ts"],
        "event_ts": asked["ts"],
        "channel_type": "channel",
    }
    assert delivered[1]["thread_ts"] == asked["ts"]
    assert delivered[1]["parent_user_id"] == REQUESTER_ID
    assert state["messages"][SUPPORT_CHANNEL][0]["text"].startswith(
        "Case #1 (P3, open): The VPN drops"
    )
    assert thread[0]["text"].startswith(":inbox_tray: Case #1 is open: Customer Support")
    assert [reply["text"] for reply in thread[1:]] == ["On it"]
    case = the_case(sandbox, 1)
    assert (case.source, case.requester_id) == (CaseSource.CHANNEL, REQUESTER_ID)
    assert case.first_response_at is not None


def test_a_top_level_message_can_be_posted_in_any_channel_listed(
    sandbox: Sandbox, delivered: list[dict[str, Any]]
) -> None:
    names = [c["name"] for c in page_state(sandbox, REQUESTER_ID)["channels"]]
    posted = page_call(
        sandbox, "type", user=REQUESTER_ID, channel=GENERAL_CHANNEL, text="Lunch at noon?"
    )
    state = page_state(sandbox, REQUESTER_ID)

    assert {"support-requests", "general"} <= set(names)
    assert posted == {"ok": True, "status": 200}
    assert [m["text"] for m in state["messages"][GENERAL_CHANNEL]] == ["Lunch at noon?"]
    assert delivered[0]["channel"] == GENERAL_CHANNEL
    assert "thread_ts" not in delivered[0]
    assert state["messages"].get(SUPPORT_CHANNEL, []) == []  # a channel of no team: no case


def test_a_ticket_reaction_opens_a_case_and_another_says_privately_it_is_one(
    sandbox: Sandbox, delivered: list[dict[str, Any]]
) -> None:
    page_call(sandbox, "type", user=REQUESTER_ID, channel=GENERAL_CHANNEL, text="Printer jams")
    ts = page_state(sandbox, AGENT)["messages"][GENERAL_CHANNEL][0]["ts"]
    on_it = {"channel": GENERAL_CHANNEL, "ts": ts, "name": "ticket"}
    reacted = page_call(sandbox, "react", user=AGENT, **on_it)
    again = page_call(sandbox, "react", user=MANAGER, **on_it)
    twice = page_call(sandbox, "react", user=AGENT, **on_it)
    shown = page_state(sandbox, AGENT)["messages"][GENERAL_CHANNEL][0]
    taken_back = page_call(sandbox, "unreact", user=AGENT, **on_it)
    after = page_state(sandbox, AGENT)["messages"][GENERAL_CHANNEL][0]

    assert reacted == {"ok": True, "status": 200}
    assert delivered[1] == {
        "type": "reaction_added",
        "user": AGENT,
        "reaction": "ticket",
        "item": {"type": "message", "channel": GENERAL_CHANNEL, "ts": ts},
        "item_user": REQUESTER_ID,
        "event_ts": delivered[1]["event_ts"],
    }
    assert (the_case(sandbox, 1).source, the_case(sandbox, 1).requester_id) == (
        CaseSource.EMOJI,
        REQUESTER_ID,
    )
    assert again == {"ok": True, "status": 200}
    card = str(the_case(sandbox, 1).card_ts).replace(".", "")
    link = f"{sandbox.slack.url}archives/{SUPPORT_CHANNEL}/p{card}"
    assert private_to(sandbox, MANAGER) == [f"This message is already case #1. <{link}|Open it>"]
    assert twice == {"ok": False, "error": "You already reacted with that."}
    assert shown["reactions"] == [{"name": "ticket", "users": [AGENT, MANAGER], "count": 2}]
    assert taken_back == {"ok": True, "status": 200}
    assert delivered[-1]["type"] == "reaction_removed"
    assert after["reactions"] == [{"name": "ticket", "users": [MANAGER], "count": 1}]
    assert page_state(sandbox, AGENT)["messages"][SUPPORT_CHANNEL][0]["text"].startswith(
        "Case #1 (P3, open): Printer jams"
    )


def test_the_shortcut_opens_the_form_filled_in_from_the_message(
    sandbox: Sandbox, delivered: list[dict[str, Any]]
) -> None:
    text = "Printer jams on floor 3\nSince Monday, every second page."
    page_call(sandbox, "type", user=REQUESTER_ID, channel=GENERAL_CHANNEL, text=text)
    ts = page_state(sandbox, AGENT)["messages"][GENERAL_CHANNEL][0]["ts"]
    on_it = {"channel": GENERAL_CHANNEL, "ts": ts}
    used = page_call(sandbox, "shortcut", user=AGENT, **on_it)
    modal = page_state(sandbox, AGENT)["modal"]
    inputs = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    # The page sends every input as it shows it: what the app filled in, untouched.
    shown = {
        "title": inputs["title"]["initial_value"],
        "description": inputs["description"]["initial_value"],
        "priority": inputs["priority"]["initial_option"]["value"],
        "team": inputs["team"]["initial_option"]["value"],
    }
    submitted = page_call(sandbox, "submit", user=AGENT, view_id=modal["id"], values=shown)
    again = page_call(sandbox, "shortcut", user=MANAGER, **on_it)

    assert used == {"ok": True}
    payload = delivered[1]
    assert (payload["type"], payload["callback_id"]) == ("message_action", "open_case_from_message")
    assert (payload["channel"]["id"], payload["message_ts"]) == (GENERAL_CHANNEL, ts)
    assert (payload["message"]["user"], payload["message"]["text"]) == (REQUESTER_ID, text)
    assert modal["title"]["text"] == "Open a case"
    assert shown == {
        "title": "Printer jams on floor 3",
        "description": text,
        "priority": "p3",
        "team": "support",
    }
    assert submitted == {"ok": True}
    case = the_case(sandbox, 1)
    assert (case.source, case.requester_id, case.title) == (
        CaseSource.SHORTCUT,
        REQUESTER_ID,
        "Printer jams on floor 3",
    )
    assert again == {"ok": True}
    assert page_state(sandbox, MANAGER)["modal"] is None
    assert private_to(sandbox, MANAGER)[0].startswith("This message is already case #1.")
    gone = page_call(sandbox, "shortcut", user=AGENT, channel=GENERAL_CHANNEL, ts="1.000001")
    assert gone == {"ok": False, "error": "That message is gone."}


def test_assign_to_on_the_card_sends_the_person_picked(
    sandbox: Sandbox, delivered: list[dict[str, Any]]
) -> None:
    page_call(sandbox, "type", user=REQUESTER_ID, channel=HELP_CHANNEL, text="/case open Slow")
    card = page_state(sandbox, MANAGER)["messages"][SUPPORT_CHANNEL][0]
    row = next(b for b in card["blocks"] if b["type"] == "actions")
    picker = next(e for e in row["elements"] if e["type"] == "users_select")
    pick = {
        "action_id": picker["action_id"],
        "block_id": row["block_id"],
        "channel": SUPPORT_CHANNEL,
        "message_ts": card["ts"],
    }
    picked = page_call(sandbox, "pick", user=MANAGER, selected_user=AGENT, **pick)
    after = page_state(sandbox, MANAGER)["messages"][SUPPORT_CHANNEL][0]
    outside = page_call(sandbox, "pick", user=MANAGER, selected_user=REQUESTER_ID, **pick)
    nobody = page_call(sandbox, "pick", user=MANAGER, selected_user="", **pick)

    assert picked == {"ok": True}
    action = next(p for p in delivered if p.get("type") == "block_actions")["actions"][0]
    assert action == {
        "type": "users_select",
        "action_id": "case_assign",
        "block_id": "case_card_1",
        "selected_user": AGENT,
        "action_ts": action["action_ts"],
    }
    assert the_case(sandbox, 1).assignee_id == AGENT
    row_after = next(b for b in after["blocks"] if b["type"] == "actions")
    assert [e.get("initial_user") for e in row_after["elements"] if "placeholder" in e] == [AGENT]
    assert outside == {"ok": True}
    assert the_case(sandbox, 1).assignee_id == AGENT
    assert private_to(sandbox, MANAGER) == [
        f"Case #1 is now assigned to <@{AGENT}>.",
        f"<@{REQUESTER_ID}> is not an agent of Customer Support, so they cannot take case #1.",
    ]
    assert nobody == {"ok": False, "error": "Pick someone first."}
